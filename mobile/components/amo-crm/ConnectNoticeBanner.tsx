import { useEffect } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';

import { isAmoCompleteErrorCode, isAmoReturnErrorCode } from '@/api/types';
import { type Messages, useI18n } from '@/i18n';

import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { type ConnectNotice, connectNotice } from './connectNotice';

export function connectErrorMessage(t: Messages, code: string): string {
  if (isAmoReturnErrorCode(code)) return t.amo.errors[code];
  if (isAmoCompleteErrorCode(code)) return t.amo.completeErrors[code];
  // The backend caps how many connect attempts one user may start per minute.
  if (code === 'too_many_requests') return t.amo.errors.too_many_requests;
  return t.amo.errors.unknown;
}

/** How long "connected" and "disconnected" stay on screen unless dismissed earlier. */
export const NOTICE_AUTO_HIDE_MS = 8000;

/**
 * The outcome of the last connect or disconnect, in words a broker can act on. Errors stay until
 * the next attempt; a confirmation ("connected", "disconnected", "cancelled") is shown once: it
 * can be closed and hides itself after a few seconds.
 */
export function ConnectNoticeBanner({ notice }: { notice: ConnectNotice | null }) {
  const { t } = useI18n();
  const transient = notice !== null && notice.kind !== 'error';
  useEffect(() => {
    if (!transient) return;
    const timer = setTimeout(() => connectNotice.clear(), NOTICE_AUTO_HIDE_MS);
    return () => clearTimeout(timer);
  }, [transient, notice]);

  if (!notice) return null;
  if (notice.kind === 'error') {
    return (
      <View style={[styles.banner, styles.error]} testID="amo-connect-error" accessibilityRole="alert">
        <Text style={[styles.text, styles.errorText]}>{connectErrorMessage(t, notice.code)}</Text>
      </View>
    );
  }
  const text = {
    connected: t.amo.returnConnected,
    disconnected: t.amo.returnDisconnected,
    cancelled: t.amo.returnCancelled,
  }[notice.kind];
  return (
    <View
      style={[styles.banner, styles.row, notice.kind === 'cancelled' ? styles.info : styles.success]}
      accessibilityRole="alert"
      testID={`amo-connect-${notice.kind}`}
    >
      <Text style={[styles.text, styles.grow]}>{text}</Text>
      <Pressable
        accessibilityRole="button"
        accessibilityLabel={t.common.closeNotice}
        onPress={() => connectNotice.clear()}
        style={styles.close}
        testID="amo-notice-close"
      >
        <Text style={styles.closeText}>×</Text>
      </Pressable>
    </View>
  );
}

// A slim line rather than a card: one line of text and its close button, so a notice shown on
// the CRM tab takes one touch target's height from the list.
const styles = StyleSheet.create({
  banner: { borderRadius: 8, paddingHorizontal: spacing.md, paddingVertical: spacing.sm },
  row: { flexDirection: 'row', alignItems: 'center', gap: spacing.xs, paddingVertical: 0, paddingRight: 0 },
  grow: { flex: 1, paddingVertical: spacing.sm },
  error: { backgroundColor: colors.dangerBackground },
  success: { backgroundColor: colors.successBackground },
  info: { backgroundColor: colors.infoBackground },
  text: { color: colors.text, fontSize: 14, lineHeight: 19 },
  errorText: { color: colors.danger },
  close: { minWidth: MIN_TOUCH, minHeight: MIN_TOUCH, alignItems: 'center', justifyContent: 'center' },
  closeText: { color: colors.text, fontSize: 20, lineHeight: 22 },
});
