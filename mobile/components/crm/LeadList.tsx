import { FlatList, StyleSheet, Text, View } from 'react-native';

import type { Lead } from '@/api/types';
import { useI18n } from '@/i18n';

import { colors, spacing } from '../ui/theme';

function initials(name: string): string {
  const letters = name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0]?.toUpperCase() ?? '');
  return letters.join('') || '#';
}

function formatPrice(price: number | null, locale: string): string | null {
  if (price === null || price === 0) return null;
  return new Intl.NumberFormat(locale).format(price);
}

export function LeadCard({ lead, locale }: { lead: Lead; locale: string }) {
  const { t } = useI18n();
  const price = formatPrice(lead.price, locale);
  return (
    <View style={styles.card} testID={`lead-${lead.id}`}>
      <View style={styles.avatar}>
        <Text style={styles.avatarText}>{initials(lead.name)}</Text>
      </View>
      <View style={styles.body}>
        <Text style={styles.name} numberOfLines={1}>
          {lead.name}
        </Text>
        <Text style={styles.meta} numberOfLines={1}>
          {lead.contactName ?? t.crm.noContact}
        </Text>
        {lead.stageName ? (
          <View style={styles.stage} testID={`lead-${lead.id}-stage`}>
            <View style={[styles.stageDot, { backgroundColor: lead.stageColor ?? colors.border }]} />
            <Text style={styles.stageName} numberOfLines={1}>
              {lead.stageName}
            </Text>
          </View>
        ) : null}
      </View>
      {price ? <Text style={styles.price}>{price}</Text> : null}
    </View>
  );
}

export function LeadList({ leads, locale }: { leads: Lead[]; locale: string }) {
  const { t } = useI18n();
  return (
    <FlatList
      data={leads}
      keyExtractor={(lead) => String(lead.id)}
      renderItem={({ item }) => <LeadCard lead={item} locale={locale} />}
      ItemSeparatorComponent={() => <View style={styles.separator} />}
      ListEmptyComponent={
        <Text style={styles.empty} testID="leads-empty">
          {t.crm.noLeads}
        </Text>
      }
      testID="lead-list"
    />
  );
}

const styles = StyleSheet.create({
  card: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.md,
    backgroundColor: colors.surface,
    borderRadius: 12,
    padding: spacing.md,
  },
  avatar: {
    width: 40,
    height: 40,
    borderRadius: 20,
    backgroundColor: colors.infoBackground,
    alignItems: 'center',
    justifyContent: 'center',
  },
  avatarText: { color: colors.primary, fontWeight: '700' },
  body: { flex: 1 },
  name: { fontSize: 15, fontWeight: '600', color: colors.text },
  meta: { fontSize: 13, color: colors.muted },
  stage: { flexDirection: 'row', alignItems: 'center', gap: spacing.xs, marginTop: 2 },
  stageDot: { width: 8, height: 8, borderRadius: 4 },
  stageName: { fontSize: 12, color: colors.muted },
  price: { fontSize: 15, fontWeight: '600', color: colors.text },
  separator: { height: spacing.sm },
  empty: { textAlign: 'center', color: colors.muted, padding: spacing.xl },
});
