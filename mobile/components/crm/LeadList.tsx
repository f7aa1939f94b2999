import type { ReactElement } from 'react';
import { FlatList, Pressable, RefreshControl, StyleSheet, Text, View } from 'react-native';

import type { Lead } from '@/api/types';
import { useI18n } from '@/i18n';

import { colors, spacing } from '../ui/theme';
import { contactLine, formatMoney, initials } from './format';

export function LeadCard({
  lead,
  locale,
  currency,
  onPress,
}: {
  lead: Lead;
  locale: string;
  /** The account's currency (from the pipelines answer); null while unknown. */
  currency: string | null;
  onPress?(): void;
}) {
  const { t } = useI18n();
  const price = formatMoney(lead.price, locale, currency);
  const contact = contactLine(lead.name, lead.contactName, t.crm.noContact);
  return (
    <Pressable
      accessibilityRole={onPress ? 'button' : undefined}
      accessibilityLabel={lead.name}
      disabled={!onPress}
      onPress={onPress}
      style={({ pressed }) => [styles.card, pressed && styles.pressed]}
      testID={`lead-${lead.id}`}
    >
      <View style={styles.avatar}>
        <Text style={styles.avatarText}>{initials(lead.name)}</Text>
      </View>
      <View style={styles.body}>
        {/* Two lines: a lead's title usually ends with the client's name. */}
        <Text style={styles.name} numberOfLines={2}>
          {lead.name}
        </Text>
        {contact !== null ? (
          <Text style={styles.meta} numberOfLines={1}>
            {contact}
          </Text>
        ) : null}
        {/* The budget shares the stage's line: beside the title it would squeeze the title to a
            few words once the currency is written out ("45 100 000 RUB"). */}
        <View style={styles.footer}>
          {lead.stageName ? (
            <View style={styles.stage} testID={`lead-${lead.id}-stage`}>
              <View style={[styles.stageDot, { backgroundColor: lead.stageColor ?? colors.border }]} />
              <Text style={styles.stageName} numberOfLines={1}>
                {lead.stageName}
              </Text>
            </View>
          ) : (
            <View style={styles.stage} />
          )}
          {price ? (
            <Text style={styles.price} testID={`lead-${lead.id}-price`}>
              {price}
            </Text>
          ) : null}
        </View>
      </View>
    </Pressable>
  );
}

type LeadListProps = {
  leads: Lead[];
  locale: string;
  currency: string | null;
  onOpen?(lead: Lead): void;
  /** Infinite scroll: called near the end of the list. */
  onEndReached?(): void;
  refreshing?: boolean;
  onRefresh?(): void;
  header?: ReactElement | null;
  footer?: ReactElement | null;
  emptyText?: string;
};

export function LeadList({
  leads,
  locale,
  currency,
  onOpen,
  onEndReached,
  refreshing,
  onRefresh,
  header,
  footer,
  emptyText,
}: LeadListProps) {
  const { t } = useI18n();
  return (
    <FlatList
      data={leads}
      keyExtractor={(lead) => String(lead.id)}
      renderItem={({ item }) => (
        <LeadCard lead={item} locale={locale} currency={currency} onPress={onOpen ? () => onOpen(item) : undefined} />
      )}
      ItemSeparatorComponent={Separator}
      ListHeaderComponent={header}
      ListFooterComponent={footer}
      ListEmptyComponent={
        <Text style={styles.empty} testID="leads-empty">
          {emptyText ?? t.crm.noLeads}
        </Text>
      }
      onEndReached={onEndReached}
      onEndReachedThreshold={0.5}
      refreshControl={
        onRefresh ? <RefreshControl refreshing={Boolean(refreshing)} onRefresh={onRefresh} /> : undefined
      }
      keyboardShouldPersistTaps="handled"
      testID="lead-list"
    />
  );
}

function Separator() {
  return <View style={styles.separator} />;
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
  pressed: { opacity: 0.8 },
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
  footer: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm, marginTop: 2 },
  stage: { flex: 1, flexDirection: 'row', alignItems: 'center', gap: spacing.xs },
  stageDot: { width: 8, height: 8, borderRadius: 4 },
  stageName: { flexShrink: 1, fontSize: 12, color: colors.muted },
  price: { fontSize: 15, fontWeight: '600', color: colors.text },
  separator: { height: spacing.sm },
  empty: { textAlign: 'center', color: colors.muted, padding: spacing.xl },
});
