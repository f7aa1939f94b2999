import { ActivityIndicator, StyleSheet, Text, View } from 'react-native';

import { ApiError } from '@/api/client';
import { useI18n } from '@/i18n';

import { Button } from './Button';
import { colors, spacing } from './theme';

export function LoadingView({ testID = 'loading' }: { testID?: string }) {
  const { t } = useI18n();
  return (
    <View style={styles.center} testID={testID}>
      <ActivityIndicator color={colors.primary} />
      <Text style={styles.muted}>{t.common.loading}</Text>
    </View>
  );
}

/** A failure with a retry button; network trouble gets its own wording. */
export function ErrorView({
  title,
  error,
  onRetry,
  testID = 'error',
}: {
  title: string;
  error: unknown;
  onRetry(): void;
  testID?: string;
}) {
  const { t } = useI18n();
  const detail =
    error instanceof ApiError && error.code === 'network_error'
      ? t.common.networkError
      : t.common.genericError;
  return (
    <View style={styles.center} testID={testID}>
      <Text style={styles.title}>{title}</Text>
      <Text style={styles.muted}>{detail}</Text>
      <Button title={t.common.retry} onPress={onRetry} variant="secondary" testID={`${testID}-retry`} />
    </View>
  );
}

export function MessageView({ title, text, testID }: { title: string; text: string; testID?: string }) {
  return (
    <View style={styles.center} testID={testID}>
      <Text style={styles.title}>{title}</Text>
      <Text style={styles.muted}>{text}</Text>
    </View>
  );
}

const styles = StyleSheet.create({
  center: { flex: 1, alignItems: 'center', justifyContent: 'center', padding: spacing.xl, gap: spacing.md },
  title: { fontSize: 18, fontWeight: '600', color: colors.text, textAlign: 'center' },
  muted: { fontSize: 15, color: colors.muted, textAlign: 'center' },
});
