import { useRouter } from 'expo-router';
import { useEffect } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import { useSafeAreaInsets } from 'react-native-safe-area-context';

import { fill, useI18n } from '@/i18n';

import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { liveNotice, useAssignedNotice } from './liveNotice';

/** How long the notice stays unless opened or closed. */
export const ASSIGNED_NOTICE_MS = 15_000;

/** "A lead was assigned to you: …" over whatever screen is open; a tap opens the lead. */
export function AssignedLeadNotice() {
  const { t } = useI18n();
  const notice = useAssignedNotice();
  const router = useRouter();
  const insets = useSafeAreaInsets();

  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => liveNotice.clear(), ASSIGNED_NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice]);

  if (!notice) return null;
  const text = fill(t.live.assigned, { name: notice.name });
  return (
    <View style={[styles.wrap, { top: insets.top + spacing.sm }]} pointerEvents="box-none">
      <View style={styles.card} accessibilityRole="alert" testID="lead-assigned-notice">
        <Pressable
          accessibilityRole="button"
          accessibilityLabel={fill(t.live.openLabel, { name: notice.name })}
          onPress={() => {
            liveNotice.clear();
            router.push(`/crm/lead/${notice.leadId}`);
          }}
          style={styles.body}
          testID="lead-assigned-open"
        >
          <Text style={styles.text}>{text}</Text>
          <Text style={styles.open}>{t.live.open} ›</Text>
        </Pressable>
        <Pressable
          accessibilityRole="button"
          accessibilityLabel={t.common.closeNotice}
          onPress={() => liveNotice.clear()}
          style={styles.close}
          testID="lead-assigned-close"
        >
          <Text style={styles.closeText}>✕</Text>
        </Pressable>
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  wrap: { position: 'absolute', left: spacing.md, right: spacing.md },
  card: {
    flexDirection: 'row',
    alignItems: 'center',
    backgroundColor: colors.surface,
    borderRadius: 12,
    borderLeftWidth: 4,
    borderLeftColor: colors.primary,
    shadowColor: '#000',
    shadowOpacity: 0.2,
    shadowRadius: 8,
    shadowOffset: { width: 0, height: 2 },
    elevation: 6,
  },
  body: { flex: 1, padding: spacing.md, gap: 2, minHeight: MIN_TOUCH },
  text: { fontSize: 15, fontWeight: '600', color: colors.text },
  open: { fontSize: 14, fontWeight: '700', color: colors.primary },
  close: { minWidth: MIN_TOUCH, minHeight: MIN_TOUCH, alignItems: 'center', justifyContent: 'center' },
  closeText: { fontSize: 16, color: colors.muted },
});
