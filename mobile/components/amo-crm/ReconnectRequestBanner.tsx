import { StyleSheet, Text, View } from 'react-native';

import type { ConnectionStatus } from '@/api/types';
import { fill, useI18n } from '@/i18n';

import { Button } from '../ui/Button';
import { colors, spacing } from '../ui/theme';

/**
 * The agency's admin asked this broker to connect amoCRM again (the status's
 * `reconnectRequested`, with the admin's note): one tap starts the connect flow. The backend
 * drops the request after the next successful connection, and the banner goes with it. Without
 * `onReconnect` it only explains: the connect screen below it has the button already.
 */
export function ReconnectRequestBanner({
  status,
  onReconnect,
  connecting,
}: {
  status: ConnectionStatus;
  onReconnect?: () => void;
  connecting?: boolean;
}) {
  const { t } = useI18n();
  if (!status.reconnectRequested) return null;
  return (
    <View style={styles.banner} accessibilityRole="alert" testID="amo-reconnect-requested">
      <Text style={styles.title}>{t.reconnectRequest.title}</Text>
      {status.reconnectNote ? (
        <Text style={styles.note} testID="amo-reconnect-note">
          {fill(t.reconnectRequest.note, { note: status.reconnectNote })}
        </Text>
      ) : null}
      {onReconnect ? (
        <Button
          title={t.reconnectRequest.action}
          onPress={onReconnect}
          busy={connecting}
          testID="amo-reconnect-requested-connect"
        />
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  banner: { backgroundColor: colors.warningBackground, borderRadius: 12, padding: spacing.md, gap: spacing.sm },
  title: { fontSize: 16, fontWeight: '700', color: colors.warning },
  note: { fontSize: 15, lineHeight: 21, color: colors.text },
});
