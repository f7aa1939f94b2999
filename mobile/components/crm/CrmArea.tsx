import { useNavigation, useRouter } from 'expo-router';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ActivityIndicator, Pressable, StyleSheet, Text, TextInput, View } from 'react-native';

import { type LeadListFilters, useAccountCurrency, useLeadPages, usePipelines } from '@/api/crm';
import type { Lead, Pipeline } from '@/api/types';
import { fill, useI18n } from '@/i18n';

import { Button } from '../ui/Button';
import { ErrorView, LoadingView, MessageView } from '../ui/StateViews';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { PipelinePicker, StageFilter } from './Chips';
import { crmListState, useCrmListState } from './crmListState';
import { LOCALES, leadCount } from './format';
import { LeadList } from './LeadList';
import { useDebouncedValue } from './useDebouncedValue';

/** How long typing must pause before the search goes to amoCRM. */
export const SEARCH_DEBOUNCE_MS = 400;

/** The main pipeline (amoCRM's `is_main`), else the first one. */
function defaultPipeline(pipelines: Pipeline[]): Pipeline | undefined {
  return pipelines.find((pipeline) => pipeline.isMain) ?? pipelines[0];
}

function uniqueById(leads: Lead[]): Lead[] {
  // A lead that moved between two page fetches can show up on both pages.
  const seen = new Set<number>();
  return leads.filter((lead) => (seen.has(lead.id) ? false : (seen.add(lead.id), true)));
}

/**
 * Refetches when the screen regains focus (not on the first focus: mounting already fetched).
 * The refetch offers the ETags of the copies held, so unchanged data costs a 304.
 */
function useRefetchOnFocus(refetch: () => void) {
  const navigation = useNavigation();
  useEffect(() => navigation.addListener('focus', refetch), [navigation, refetch]);
}

/** The connected broker's CRM: pipelines, stages and their own leads, through their own connection. */
export function CrmArea() {
  const { t } = useI18n();
  const pipelines = usePipelines();
  const refetchPipelines = pipelines.refetch;
  useRefetchOnFocus(useCallback(() => void refetchPipelines(), [refetchPipelines]));

  if (pipelines.isPending) return <LoadingView testID="pipelines-loading" />;
  if (pipelines.isError) {
    return (
      <ErrorView
        title={t.crm.pipelinesError}
        error={pipelines.error}
        onRetry={() => void pipelines.refetch()}
        testID="pipelines-error"
      />
    );
  }
  if (pipelines.data.length === 0) {
    return <MessageView title={t.crm.leadsTitle} text={t.crm.noPipelines} testID="pipelines-empty" />;
  }
  return <PipelineLeads pipelines={pipelines.data} />;
}

function PipelineLeads({ pipelines }: { pipelines: Pipeline[] }) {
  const { t, language } = useI18n();
  const router = useRouter();
  const state = useCrmListState();
  const locale = LOCALES[language];
  const currency = useAccountCurrency();

  const pipeline =
    pipelines.find((candidate) => candidate.id === state.pipelineId) ?? (defaultPipeline(pipelines) as Pipeline);
  const stage = pipeline.stages.find((candidate) => candidate.id === state.stageId);
  const stageId = stage?.id;
  const searchText = state.search;
  const search = useDebouncedValue(searchText.trim(), SEARCH_DEBOUNCE_MS);

  const filters: LeadListFilters = useMemo(
    () => ({
      pipelineId: pipeline.id,
      ...(stageId !== undefined ? { stageId } : {}),
      ...(search ? { query: search } : {}),
    }),
    [pipeline.id, stageId, search],
  );
  const leads = useLeadPages(filters);
  const refetchLeads = leads.refetch;
  useRefetchOnFocus(useCallback(() => void refetchLeads(), [refetchLeads]));

  const [pullRefreshing, setPullRefreshing] = useState(false);
  const onRefresh = useCallback(async () => {
    setPullRefreshing(true);
    try {
      await leads.refresh();
    } finally {
      setPullRefreshing(false);
    }
  }, [leads]);

  const items = useMemo(
    () => uniqueById(leads.data?.pages.flatMap((page) => page.data.items) ?? []),
    [leads.data],
  );
  const lastPage = leads.data?.pages[leads.data.pages.length - 1];
  const hasMore = Boolean(lastPage?.data.hasMore);

  const selectPipeline = (id: number) => crmListState.update({ pipelineId: id, stageId: null, created: null });
  const selectStage = (id: number | null) => crmListState.update({ pipelineId: pipeline.id, stageId: id, created: null });
  const changeSearch = (text: string) => crmListState.update({ search: text });
  const loadMore = () => {
    if (leads.hasNextPage && !leads.isFetchingNextPage && !leads.isFetchNextPageError) void leads.fetchNextPage();
  };

  const summary = leads.isSuccess
    ? fill(t.crm.summary, { pipeline: pipeline.name, count: leadCount(t, language, items.length, hasMore) })
    : pipeline.name;

  const footer = leads.isFetchingNextPage ? (
    <View style={styles.footer} testID="leads-loading-more">
      <ActivityIndicator color={colors.primary} />
      <Text style={styles.muted}>{t.crm.loadingMore}</Text>
    </View>
  ) : leads.isFetchNextPageError ? (
    <View style={styles.footer} testID="leads-more-error">
      <Text style={styles.muted}>{t.crm.loadMoreError}</Text>
      <Button title={t.common.retry} variant="secondary" onPress={() => void leads.fetchNextPage()} testID="leads-more-retry" />
    </View>
  ) : null;

  return (
    <View style={styles.container} testID="crm-area">
      <PipelinePicker pipelines={pipelines} selectedId={pipeline.id} onSelect={selectPipeline} />
      <StageFilter pipelineId={pipeline.id} stages={pipeline.stages} selectedId={stage?.id ?? null} onSelect={selectStage} />
      <View style={styles.summaryRow}>
        <Text style={styles.summary} testID="leads-summary" numberOfLines={2}>
          {summary}
        </Text>
        <Button
          title={t.crm.newLead}
          onPress={() => router.push({ pathname: '/crm/new-lead', params: { pipelineId: String(pipeline.id) } })}
          testID="new-lead"
        />
      </View>
      <TextInput
        value={searchText}
        onChangeText={changeSearch}
        placeholder={t.crm.searchPlaceholder}
        accessibilityLabel={t.crm.searchLabel}
        placeholderTextColor={colors.placeholder}
        autoCorrect={false}
        returnKeyType="search"
        style={styles.search}
        testID="leads-search"
      />
      {state.created ? (
        <View style={styles.notice} testID="lead-created-notice">
          <Text style={styles.noticeText}>{fill(t.crm.createdNotice, { name: state.created.name })}</Text>
          <Pressable
            accessibilityRole="button"
            accessibilityLabel={fill(t.crm.openCreatedLabel, { name: state.created.name })}
            style={styles.noticeAction}
            onPress={() => {
              const created = state.created;
              crmListState.update({ created: null });
              if (created) router.push(`/crm/lead/${created.id}`);
            }}
            testID="lead-created-open"
          >
            <Text style={styles.noticeLink}>{t.crm.openCreated}</Text>
          </Pressable>
        </View>
      ) : null}
      {leads.isPending ? (
        <LoadingView testID="leads-loading" />
      ) : leads.isError && !leads.data ? (
        <ErrorView title={t.crm.leadsError} error={leads.error} onRetry={() => void leads.refetch()} testID="leads-error" />
      ) : (
        <LeadList
          leads={items}
          locale={locale}
          currency={currency}
          onOpen={(lead) => router.push(`/crm/lead/${lead.id}`)}
          onEndReached={loadMore}
          refreshing={pullRefreshing}
          onRefresh={() => void onRefresh()}
          footer={footer}
          emptyText={stage || search ? t.crm.noLeadsFiltered : t.crm.noLeads}
        />
      )}
    </View>
  );
}

const styles = StyleSheet.create({
  container: { flex: 1, gap: spacing.sm },
  summaryRow: { flexDirection: 'row', alignItems: 'center', gap: spacing.md },
  summary: { flex: 1, fontSize: 17, fontWeight: '700', color: colors.text },
  search: {
    minHeight: MIN_TOUCH,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 10,
    backgroundColor: colors.surface,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.sm,
    fontSize: 15,
    color: colors.text,
  },
  notice: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.md,
    backgroundColor: colors.successBackground,
    borderRadius: 10,
    padding: spacing.md,
  },
  noticeText: { flex: 1, color: colors.success, fontSize: 14 },
  noticeAction: { minHeight: MIN_TOUCH, minWidth: MIN_TOUCH, justifyContent: 'center' },
  noticeLink: { color: colors.primary, fontWeight: '700', fontSize: 14 },
  footer: { alignItems: 'center', gap: spacing.sm, padding: spacing.lg },
  muted: { color: colors.muted, fontSize: 14, textAlign: 'center' },
});
