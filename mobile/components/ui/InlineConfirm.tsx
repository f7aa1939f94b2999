import { StyleSheet, Text, View } from 'react-native';

import { useI18n } from '@/i18n';

import { Button } from './Button';
import { colors, spacing } from './theme';

type Props = {
  title: string;
  text: string;
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
  busy?: boolean;
  /** Why the last attempt failed, shown under the buttons. */
  error?: string | null;
  testID: string;
};

/**
 * A question answered in place, before something that cannot be taken back happens (`Alert`
 * does nothing in the web build). The confirm button is `${testID}-confirm`.
 */
export function InlineConfirm({ title, text, confirmLabel, onConfirm, onCancel, busy, error, testID }: Props) {
  const { t } = useI18n();
  return (
    <View style={styles.panel} testID={testID} accessibilityRole="alert">
      <Text style={styles.title} accessibilityRole="header">
        {title}
      </Text>
      <Text style={styles.text}>{text}</Text>
      <View style={styles.actions}>
        <Button title={t.common.cancel} onPress={onCancel} variant="secondary" testID={`${testID}-cancel`} />
        <Button title={confirmLabel} onPress={onConfirm} variant="danger" busy={busy} testID={`${testID}-confirm`} />
      </View>
      {error ? (
        <Text style={styles.error} testID={`${testID}-error`}>
          {error}
        </Text>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  panel: {
    gap: spacing.sm,
    padding: spacing.md,
    borderRadius: 12,
    borderWidth: 1,
    borderColor: colors.danger,
    backgroundColor: colors.surface,
  },
  title: { fontSize: 16, fontWeight: '700', color: colors.text },
  text: { fontSize: 14, lineHeight: 20, color: colors.text },
  actions: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm, justifyContent: 'flex-end' },
  error: { fontSize: 14, color: colors.danger },
});
