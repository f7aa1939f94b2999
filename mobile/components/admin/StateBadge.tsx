import { StyleSheet, Text, View } from 'react-native';

import type { AgencyHealth, BrokerState } from '@/api/types';
import { useI18n } from '@/i18n';

import { colors, spacing } from '../ui/theme';

export type Tone = 'good' | 'warning' | 'bad' | 'neutral';

const TONES: Record<Tone, { text: string; background: string }> = {
  good: { text: colors.success, background: colors.successBackground },
  warning: { text: colors.warning, background: colors.warningBackground },
  bad: { text: colors.danger, background: colors.dangerBackground },
  neutral: { text: colors.muted, background: colors.neutralBackground },
};

export const BROKER_STATE_TONE: Record<BrokerState, Tone> = {
  active: 'good',
  reauth_required: 'warning',
  revoked: 'bad',
  disconnected: 'neutral',
  never_connected: 'neutral',
};

export const AGENCY_HEALTH_TONE: Record<AgencyHealth, Tone> = {
  active: 'good',
  expiring: 'warning',
  expired: 'bad',
  revoked: 'bad',
  none: 'neutral',
};

/** A coloured pill that always carries its meaning in words too (colour alone says nothing to some). */
export function Badge({ label, tone, testID }: { label: string; tone: Tone; testID?: string }) {
  const palette = TONES[tone];
  return (
    <View style={[styles.badge, { backgroundColor: palette.background }]} testID={testID}>
      <View style={[styles.dot, { backgroundColor: palette.text }]} />
      <Text style={[styles.text, { color: palette.text }]} numberOfLines={1}>
        {label}
      </Text>
    </View>
  );
}

export function BrokerStateBadge({ state, testID }: { state: BrokerState; testID?: string }) {
  const { t } = useI18n();
  return <Badge label={t.admin.brokers.states[state]} tone={BROKER_STATE_TONE[state]} testID={testID} />;
}

const styles = StyleSheet.create({
  badge: {
    flexDirection: 'row',
    alignItems: 'center',
    alignSelf: 'flex-start',
    gap: spacing.xs,
    borderRadius: 999,
    paddingHorizontal: spacing.sm,
    paddingVertical: 3,
  },
  dot: { width: 8, height: 8, borderRadius: 4 },
  text: { fontSize: 13, fontWeight: '600' },
});
