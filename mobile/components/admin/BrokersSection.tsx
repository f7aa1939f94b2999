import { useRouter } from 'expo-router';
import { useMemo, useState } from 'react';
import { ActivityIndicator, FlatList, Pressable, ScrollView, StyleSheet, Text, TextInput, View } from 'react-native';

import { useBrokerPages } from '@/api/admin';
import { BROKER_STATES, type Broker, type BrokerState } from '@/api/types';
import { fill, pluralForm, useI18n } from '@/i18n';

import { Chip } from '../crm/Chips';
import { LOCALES, formatDateTime } from '../crm/format';
import { useDebouncedValue } from '../crm/useDebouncedValue';
import { Button } from '../ui/Button';
import { ErrorView, LoadingView } from '../ui/StateViews';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { amoUserText, reasonText } from './format';
import { BrokerStateBadge } from './StateBadge';

const SEARCH_DEBOUNCE_MS = 400;

/** Every broker's amoCRM connection: filter by state, search by name or e-mail, infinite scroll. */
export function BrokersSection() {
  const { t, language } = useI18n();
  const router = useRouter();
  const [state, setState] = useState<BrokerState | null>(null);
  const [searchText, setSearchText] = useState('');
  const q = useDebouncedValue(searchText.trim(), SEARCH_DEBOUNCE_MS);
  const filters = useMemo(() => ({ ...(state ? { state } : {}), ...(q ? { q } : {}) }), [state, q]);
  const brokers = useBrokerPages(filters);
  const items = useMemo(() => brokers.data?.pages.flatMap((page) => page.items) ?? [], [brokers.data]);
  const total = brokers.data?.pages[0]?.total ?? 0;
  const locale = LOCALES[language];

  const loadMore = () => {
    if (brokers.hasNextPage && !brokers.isFetchingNextPage && !brokers.isFetchNextPageError) void brokers.fetchNextPage();
  };

  const footer = brokers.isFetchingNextPage ? (
    <View style={styles.footer} testID="brokers-loading-more">
      <ActivityIndicator color={colors.primary} />
      <Text style={styles.muted}>{t.crm.loadingMore}</Text>
    </View>
  ) : brokers.isFetchNextPageError ? (
    <View style={styles.footer} testID="brokers-more-error">
      <Text style={styles.muted}>{t.admin.loadMoreError}</Text>
      <Button title={t.common.retry} variant="secondary" onPress={() => void brokers.fetchNextPage()} testID="brokers-more-retry" />
    </View>
  ) : null;

  return (
    <View style={styles.container} testID="admin-brokers">
      <TextInput
        value={searchText}
        onChangeText={setSearchText}
        placeholder={t.admin.brokers.searchPlaceholder}
        accessibilityLabel={t.admin.brokers.searchLabel}
        placeholderTextColor={colors.placeholder}
        autoCorrect={false}
        autoCapitalize="none"
        returnKeyType="search"
        style={styles.search}
        testID="brokers-search"
      />
      <ScrollView
        horizontal
        showsHorizontalScrollIndicator={false}
        style={styles.chipScroller}
        contentContainerStyle={styles.chips}
        testID="brokers-state-filter"
      >
        <Chip label={t.admin.brokers.all} selected={state === null} onPress={() => setState(null)} testID="brokers-state-all" />
        {BROKER_STATES.map((candidate) => (
          <Chip
            key={candidate}
            label={t.admin.brokers.states[candidate]}
            selected={state === candidate}
            onPress={() => setState(candidate)}
            testID={`brokers-state-${candidate}`}
          />
        ))}
      </ScrollView>
      {brokers.isPending ? (
        <LoadingView testID="brokers-loading" />
      ) : brokers.isError && !brokers.data ? (
        <ErrorView title={t.admin.brokers.error} error={brokers.error} onRetry={() => void brokers.refetch()} testID="brokers-error" />
      ) : (
        <FlatList
          data={items}
          keyExtractor={(broker) => broker.userId}
          renderItem={({ item }) => (
            <BrokerRow broker={item} locale={locale} onOpen={() => router.push(`/admin/broker/${item.userId}`)} />
          )}
          ItemSeparatorComponent={Separator}
          ListHeaderComponent={
            <Text style={styles.count} testID="brokers-count">
              {fill(t.admin.brokers.count[pluralForm(language, total)], { n: total })}
            </Text>
          }
          ListFooterComponent={footer}
          ListEmptyComponent={
            <Text style={styles.empty} testID="brokers-empty">
              {state || q ? t.admin.brokers.emptyFiltered : t.admin.brokers.empty}
            </Text>
          }
          onEndReached={loadMore}
          onEndReachedThreshold={0.5}
          refreshing={brokers.isRefetching && !brokers.isFetchingNextPage}
          onRefresh={() => void brokers.refetch()}
          keyboardShouldPersistTaps="handled"
          testID="brokers-list"
        />
      )}
    </View>
  );
}

function BrokerRow({ broker, locale, onOpen }: { broker: Broker; locale: string; onOpen(): void }) {
  const { t } = useI18n();
  const amoUser = amoUserText(t, broker.amoUserName, broker.amoUserId);
  const reason = broker.state === 'reauth_required' || broker.state === 'revoked' ? reasonText(t, broker.reason) : null;
  const details = [
    broker.lastActiveAt ? fill(t.admin.brokers.lastActive, { date: formatDateTime(broker.lastActiveAt, locale) ?? '' }) : null,
    broker.connectedSince ? fill(t.admin.brokers.connectedSince, { date: formatDateTime(broker.connectedSince, locale) ?? '' }) : null,
    broker.lastRefreshedAt ? fill(t.admin.brokers.lastRefresh, { date: formatDateTime(broker.lastRefreshedAt, locale) ?? '' }) : null,
  ].filter(Boolean);
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={fill(t.admin.brokers.open, { name: broker.name, state: t.admin.brokers.states[broker.state] })}
      onPress={onOpen}
      style={({ pressed }) => [styles.row, pressed && styles.pressed]}
      testID={`broker-${broker.email}`}
    >
      <View style={styles.rowHead}>
        <Text style={styles.name} numberOfLines={1}>
          {broker.name}
        </Text>
        <BrokerStateBadge state={broker.state} testID={`broker-${broker.email}-state`} />
      </View>
      <Text style={styles.muted} numberOfLines={1}>
        {broker.email}
      </Text>
      {amoUser ? (
        <Text style={styles.meta} numberOfLines={1} testID={`broker-${broker.email}-amo-user`}>
          {fill(t.admin.brokers.amoUser, { name: amoUser })}
        </Text>
      ) : null}
      {reason ? <Text style={styles.meta}>{reason}</Text> : null}
      {details.length ? <Text style={styles.muted}>{details.join(' · ')}</Text> : null}
      {broker.lastError ? (
        <Text style={styles.error} numberOfLines={2}>
          {fill(t.admin.brokers.lastError, {
            error: broker.lastError,
            date: formatDateTime(broker.lastErrorAt, locale) ?? '',
          })}
        </Text>
      ) : null}
      {broker.reconnectRequested ? (
        <Text style={styles.pending} testID={`broker-${broker.email}-reconnect-requested`}>
          {t.admin.brokers.reconnectPending}
        </Text>
      ) : null}
    </Pressable>
  );
}

function Separator() {
  return <View style={styles.separator} />;
}

const styles = StyleSheet.create({
  container: { flex: 1, gap: spacing.sm },
  search: {
    minHeight: MIN_TOUCH,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 10,
    backgroundColor: colors.surface,
    paddingHorizontal: spacing.md,
    fontSize: 15,
    color: colors.text,
  },
  chipScroller: { flexGrow: 0, flexShrink: 0 },
  chips: { gap: spacing.sm, paddingVertical: 2, alignItems: 'center' },
  count: { fontSize: 15, fontWeight: '700', color: colors.text, paddingBottom: spacing.sm },
  row: {
    minHeight: MIN_TOUCH,
    backgroundColor: colors.surface,
    borderRadius: 12,
    padding: spacing.md,
    gap: 2,
  },
  pressed: { opacity: 0.8 },
  rowHead: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm, justifyContent: 'space-between' },
  name: { flexShrink: 1, fontSize: 16, fontWeight: '600', color: colors.text },
  meta: { fontSize: 14, color: colors.text },
  muted: { fontSize: 13, color: colors.muted },
  error: { fontSize: 13, color: colors.danger },
  pending: { fontSize: 13, fontWeight: '600', color: colors.warning },
  separator: { height: spacing.sm },
  footer: { alignItems: 'center', gap: spacing.sm, padding: spacing.lg },
  empty: { textAlign: 'center', color: colors.muted, padding: spacing.xl },
});
