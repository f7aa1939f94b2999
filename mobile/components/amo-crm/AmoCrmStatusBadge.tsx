import { useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';

import { useDisconnect } from '@/api/amo-crm';
import type { ConnectionStatus } from '@/api/types';
import { fill, useI18n } from '@/i18n';

import { Button } from '../ui/Button';
import { Sheet } from '../ui/Sheet';
import { connectNotice } from './connectNotice';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';

/**
 * A small "● amoCRM" pill for the CRM tab's top bar: the broker sees at a glance that the
 * connection is live, without it taking a row of the list's screen. Tapping it opens a sheet:
 * "Connected to amoCRM", who is connected, and disconnect behind an inline confirmation (an
 * inline step rather than `Alert`, which does nothing in the web build).
 */
export function AmoCrmStatusBadge({
  status,
  brokerName,
}: {
  status: ConnectionStatus;
  /**
   * The signed-in broker's own name, shown when amoCRM does not reveal the user's name
   * (amoCRM lets only account admins read user records).
   */
  brokerName?: string;
}) {
  const { t } = useI18n();
  const disconnect = useDisconnect();
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);

  const who = fill(t.amo.connectedAs, {
    name: status.amoUserName ?? brokerName ?? '—',
    domain: status.domain ?? '—',
  });
  const close = () => {
    setOpen(false);
    setConfirming(false);
  };

  return (
    <>
      <Pressable
        accessibilityRole="button"
        accessibilityLabel={`${t.amo.connectedTitle}: ${who}`}
        onPress={() => setOpen(true)}
        style={({ pressed }) => [styles.pill, pressed && styles.pressed]}
        testID="amo-status-badge"
      >
        <View style={styles.dot} />
        <Text style={styles.pillText}>amoCRM</Text>
      </Pressable>
      <Sheet title={t.amo.connectedTitle} visible={open} onClose={close} testID="amo-status-sheet">
        <View style={styles.row}>
          <View style={styles.dot} />
          <Text style={styles.who} testID="amo-connected-as">
            {who}
          </Text>
        </View>
        {!confirming ? (
          <Button
            title={t.amo.disconnect}
            onPress={() => {
              // The question replaces the "connected" confirmation; both at once contradict.
              connectNotice.clear();
              setConfirming(true);
            }}
            variant="secondary"
            testID="amo-disconnect"
          />
        ) : (
          <View style={styles.confirm} testID="amo-disconnect-confirmation">
            <Text style={styles.confirmTitle}>{t.amo.disconnectConfirmTitle}</Text>
            <Text style={styles.confirmText}>{t.amo.disconnectConfirmText}</Text>
            <View style={styles.actions}>
              <Button
                title={t.common.cancel}
                onPress={() => setConfirming(false)}
                variant="secondary"
                testID="amo-disconnect-cancel"
              />
              <Button
                title={t.amo.disconnectConfirm}
                onPress={() =>
                  disconnect.mutate(undefined, {
                    onSuccess: () => {
                      close();
                      connectNotice.set({ kind: 'disconnected' });
                    },
                  })
                }
                variant="danger"
                busy={disconnect.isPending}
                testID="amo-disconnect-confirm"
              />
            </View>
            {disconnect.isError ? (
              <Text style={styles.error} testID="amo-disconnect-error">
                {t.amo.disconnectFailed}
              </Text>
            ) : null}
          </View>
        )}
      </Sheet>
    </>
  );
}

const styles = StyleSheet.create({
  pill: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.xs,
    minHeight: MIN_TOUCH,
    minWidth: MIN_TOUCH,
    paddingHorizontal: spacing.md,
    borderRadius: MIN_TOUCH / 2,
    backgroundColor: colors.successBackground,
  },
  pressed: { opacity: 0.7 },
  pillText: { fontSize: 13, fontWeight: '600', color: colors.success },
  row: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm },
  dot: { width: 10, height: 10, borderRadius: 5, backgroundColor: colors.success },
  who: { flex: 1, fontSize: 15, color: colors.text },
  confirm: { gap: spacing.sm },
  confirmText: { fontSize: 15, color: colors.text },
  confirmTitle: { fontSize: 15, fontWeight: '600', color: colors.text },
  actions: { flexDirection: 'row', gap: spacing.sm, justifyContent: 'flex-end' },
  error: { color: colors.danger, fontSize: 14 },
});
