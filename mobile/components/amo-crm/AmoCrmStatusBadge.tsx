import { useState } from 'react';
import { StyleSheet, Text, View } from 'react-native';

import { useDisconnect } from '@/api/amo-crm';
import type { ConnectionStatus } from '@/api/types';
import { fill, useI18n } from '@/i18n';

import { Button } from '../ui/Button';
import { connectNotice } from './connectNotice';
import { colors, spacing } from '../ui/theme';

/**
 * "Connected to amoCRM", who is connected, and disconnect behind an inline confirmation
 * (an inline step rather than `Alert`, which does nothing in the web build).
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
  const [confirming, setConfirming] = useState(false);

  const who = fill(t.amo.connectedAs, {
    name: status.amoUserName ?? brokerName ?? '—',
    domain: status.domain ?? '—',
  });

  return (
    <View style={styles.badge} testID="amo-status-badge">
      <View style={styles.row}>
        <View style={styles.dot} />
        <View style={styles.texts}>
          <Text style={styles.title}>{t.amo.connectedTitle}</Text>
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
        ) : null}
      </View>
      {confirming ? (
        <View style={styles.confirm} testID="amo-disconnect-confirmation">
          <Text style={styles.confirmTitle}>{t.amo.disconnectConfirmTitle}</Text>
          <Text style={styles.who}>{t.amo.disconnectConfirmText}</Text>
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
                    setConfirming(false);
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
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  badge: {
    backgroundColor: colors.successBackground,
    borderRadius: 12,
    padding: spacing.md,
    gap: spacing.md,
  },
  row: { flexDirection: 'row', alignItems: 'center', gap: spacing.md },
  dot: { width: 10, height: 10, borderRadius: 5, backgroundColor: colors.success },
  texts: { flex: 1 },
  title: { fontSize: 15, fontWeight: '600', color: colors.success },
  who: { fontSize: 14, color: colors.text },
  confirm: { gap: spacing.sm },
  confirmTitle: { fontSize: 15, fontWeight: '600', color: colors.text },
  actions: { flexDirection: 'row', gap: spacing.sm, justifyContent: 'flex-end' },
  error: { color: colors.danger, fontSize: 14 },
});
