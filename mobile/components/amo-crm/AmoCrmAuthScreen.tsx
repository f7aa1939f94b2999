import { ScrollView, StyleSheet, Text, View } from 'react-native';

import { useI18n } from '@/i18n';

import { Button } from '../ui/Button';
import { colors, spacing } from '../ui/theme';

type Props = {
  onConnect(): void;
  onCancel?: () => void;
  connecting?: boolean;
  /** Replaces the title and explanation, e.g. for a connection that needs re-authorisation. */
  title?: string;
  message?: string;
  connectLabel?: string;
  /** Shown above the explanation: the outcome of the last attempt. */
  notice?: React.ReactNode;
};

/** The gate of the CRM tab: what connecting amoCRM means and the button that starts it. */
export function AmoCrmAuthScreen({
  onConnect,
  onCancel,
  connecting = false,
  title,
  message,
  connectLabel,
  notice,
}: Props) {
  const { t } = useI18n();
  return (
    <ScrollView contentContainerStyle={styles.container} testID="amo-auth-screen">
      <View style={styles.icon} accessibilityElementsHidden importantForAccessibility="no">
        <Text style={styles.iconText}>CRM</Text>
      </View>
      {notice}
      <Text style={styles.title} accessibilityRole="header">
        {title ?? t.amo.authTitle}
      </Text>
      <Text style={styles.text} testID="amo-auth-message">
        {message ?? t.amo.authText}
      </Text>
      <Button
        title={connecting ? t.amo.connecting : (connectLabel ?? t.amo.connect)}
        onPress={onConnect}
        busy={connecting}
        testID="amo-connect"
      />
      {onCancel ? (
        <Button title={t.common.cancel} onPress={onCancel} variant="secondary" testID="amo-cancel" />
      ) : null}
      <View style={styles.instructions}>
        <Text style={styles.instructionsTitle}>{t.amo.instructionsTitle}</Text>
        {t.amo.instructions.map((step, index) => (
          <Text key={step} style={styles.step}>
            {`${index + 1}. ${step}`}
          </Text>
        ))}
      </View>
    </ScrollView>
  );
}

const styles = StyleSheet.create({
  container: { padding: spacing.xl, gap: spacing.lg, alignItems: 'stretch' },
  icon: {
    alignSelf: 'center',
    width: 72,
    height: 72,
    borderRadius: 36,
    backgroundColor: colors.infoBackground,
    alignItems: 'center',
    justifyContent: 'center',
  },
  iconText: { color: colors.primary, fontWeight: '700', fontSize: 18 },
  title: { fontSize: 22, fontWeight: '700', color: colors.text, textAlign: 'center' },
  text: { fontSize: 15, color: colors.muted, textAlign: 'center', lineHeight: 21 },
  instructions: {
    backgroundColor: colors.surface,
    borderRadius: 12,
    padding: spacing.lg,
    gap: spacing.sm,
  },
  instructionsTitle: { fontSize: 15, fontWeight: '600', color: colors.text },
  step: { fontSize: 14, color: colors.muted, lineHeight: 20 },
});
