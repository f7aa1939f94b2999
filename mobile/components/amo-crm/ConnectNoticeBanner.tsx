import { StyleSheet, Text, View } from 'react-native';

import { isAmoCompleteErrorCode, isAmoReturnErrorCode } from '@/api/types';
import { type Messages, useI18n } from '@/i18n';

import { colors, spacing } from '../ui/theme';
import type { ConnectNotice } from './connectNotice';

export function connectErrorMessage(t: Messages, code: string): string {
  if (isAmoReturnErrorCode(code)) return t.amo.errors[code];
  if (isAmoCompleteErrorCode(code)) return t.amo.completeErrors[code];
  // The backend caps how many connect attempts one user may start per minute.
  if (code === 'too_many_requests') return t.amo.errors.too_many_requests;
  return t.amo.errors.unknown;
}

/** The outcome of the last connect attempt, in words a broker can act on. */
export function ConnectNoticeBanner({ notice }: { notice: ConnectNotice | null }) {
  const { t } = useI18n();
  if (!notice) return null;
  if (notice.kind === 'error') {
    return (
      <View style={[styles.banner, styles.error]} testID="amo-connect-error" accessibilityRole="alert">
        <Text style={styles.errorText}>{connectErrorMessage(t, notice.code)}</Text>
      </View>
    );
  }
  const text = notice.kind === 'connected' ? t.amo.returnConnected : t.amo.returnCancelled;
  return (
    <View
      style={[styles.banner, notice.kind === 'connected' ? styles.success : styles.info]}
      testID={`amo-connect-${notice.kind}`}
    >
      <Text style={styles.text}>{text}</Text>
    </View>
  );
}

const styles = StyleSheet.create({
  banner: { borderRadius: 10, padding: spacing.md },
  error: { backgroundColor: colors.dangerBackground },
  success: { backgroundColor: colors.successBackground },
  info: { backgroundColor: colors.infoBackground },
  errorText: { color: colors.danger, fontSize: 15, lineHeight: 21 },
  text: { color: colors.text, fontSize: 15 },
});
