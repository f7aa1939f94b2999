import { useNavigation, useRouter } from 'expo-router';
import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import { ActivityIndicator, Pressable, StyleSheet, Text, TextInput, View } from 'react-native';
import { useSafeAreaInsets } from 'react-native-safe-area-context';

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

type Chrome = {
  /** The connection's pill, at the right of the top bar. */
  status: ReactNode;
  /** One-time notices (connected, a reconnect request) between the top bar and the filters. */
  notices: ReactNode;
};

/**
 * The tab's own top bar (the tab hides the navigator's header while connected): the pipeline
 * with its lead count as the title, the connection's pill beside it. One row instead of a title,
 * a status card and a row of pipeline chips, so the leads get the screen.
 */
function CrmTopBar({ title, status }: { title: ReactNode; status: ReactNode }) {
  const insets = useSafeAreaInsets();
  return (
    <View style={[styles.topBar, { paddingTop: insets.top + spacing.xs }]} testID="crm-top-bar">
      {title}
      {status}
    </View>
  );
}

function useLeadFilters(pipelineId: number, stageId: number | undefined, search: string): LeadListFilters {
  return useMemo(
    () => ({
      pipelineId,
      ...(stageId !== undefined ? { stageId } : {}),
      ...(search ? { query: search } : {}),
    }),
    [pipelineId, stageId, search],
  );
}

/** A disabled query (no pipeline yet) would still fetch on `refetch`: it waits for its pipeline. */
function useRefetchLeadsOnFocus(refetch: () => unknown, enabled: boolean) {
  useRefetchOnFocus(
    useCallback(() => {
      if (enabled) void refetch();
    }, [enabled, refetch]),
  );
}

/** The connected broker's CRM: pipelines, stages and their own leads, through their own connection. */
export function CrmArea({ status, notices }: Chrome) {
  const { t } = useI18n();
  const pipelines = usePipelines();
  const refetchPipelines = pipelines.refetch;
  useRefetchOnFocus(useCallback(() => void refetchPipelines(), [refetchPipelines]));

  // One component for every state, so the top bar (and the status pill's open sheet) stays
  // mounted when the pipelines arrive.
  return (
    <PipelineLeads
      pipelines={pipelines.data ?? []}
      unavailable={
        pipelines.isPending ? (
          <LoadingView testID="pipelines-loading" />
        ) : pipelines.isError ? (
          <ErrorView
            title={t.crm.pipelinesError}
            error={pipelines.error}
            onRetry={() => void pipelines.refetch()}
            testID="pipelines-error"
          />
        ) : (
          <MessageView title={t.crm.leadsTitle} text={t.crm.noPipelines} testID="pipelines-empty" />
        )
      }
      status={status}
      notices={notices}
    />
  );
}

/** The list of the selected pipeline; `unavailable` stands in while there is no pipeline to show. */
function PipelineLeads({
  pipelines,
  unavailable,
  status,
  notices,
}: { pipelines: Pipeline[]; unavailable: ReactNode } & Chrome) {
  const { t, language } = useI18n();
  const router = useRouter();
  const state = useCrmListState();
  const locale = LOCALES[language];
  const currency = useAccountCurrency();

  const pipeline = pipelines.find((candidate) => candidate.id === state.pipelineId) ?? defaultPipeline(pipelines);
  const stage = pipeline?.stages.find((candidate) => candidate.id === state.stageId);
  const stageId = stage?.id;
  const searchText = state.search;
  const search = useDebouncedValue(searchText.trim(), SEARCH_DEBOUNCE_MS);

  const pipelineId = pipeline?.id;
  const filters = useLeadFilters(pipelineId ?? 0, stageId, search);
  const leads = useLeadPages(filters, { enabled: pipelineId !== undefined });
  useRefetchLeadsOnFocus(leads.refetch, pipelineId !== undefined);

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
  const selectStage = (id: number | null) => crmListState.update({ pipelineId: pipeline?.id, stageId: id, created: null });
  const changeSearch = (text: string) => crmListState.update({ search: text });
  const loadMore = () => {
    if (leads.hasNextPage && !leads.isFetchingNextPage && !leads.isFetchNextPageError) void leads.fetchNextPage();
  };

  if (!pipeline) {
    return (
      <View style={styles.container}>
        <CrmTopBar
          title={
            <Text style={styles.title} accessibilityRole="header">
              {t.tabs.crm}
            </Text>
          }
          status={status}
        />
        <View style={styles.body}>
          {notices}
          {unavailable}
        </View>
      </View>
    );
  }

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
      <CrmTopBar
        title={<PipelinePicker pipelines={pipelines} selectedId={pipeline.id} summary={summary} onSelect={selectPipeline} />}
        status={status}
      />
      <View style={styles.body}>
        {notices}
        <StageFilter pipelineId={pipeline.id} stages={pipeline.stages} selectedId={stage?.id ?? null} onSelect={selectStage} />
        <View style={styles.searchRow}>
          <View style={styles.searchField}>
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
            {searchText ? (
              <Pressable
                accessibilityRole="button"
                accessibilityLabel={t.crm.clearSearch}
                onPress={() => changeSearch('')}
                style={styles.clear}
                testID="leads-search-clear"
              >
                <Text style={styles.clearText}>×</Text>
              </Pressable>
            ) : null}
          </View>
          <Button
            title={t.crm.newLead}
            onPress={() => router.push({ pathname: '/crm/new-lead', params: { pipelineId: String(pipeline.id) } })}
            testID="new-lead"
          />
        </View>
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
    </View>
  );
}

const styles = StyleSheet.create({
  container: { flex: 1 },
  topBar: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.sm,
    paddingHorizontal: spacing.lg,
    paddingBottom: spacing.xs,
    borderBottomWidth: 1,
    borderBottomColor: colors.border,
    backgroundColor: colors.surface,
  },
  title: { flex: 1, fontSize: 17, fontWeight: '700', color: colors.text },
  body: { flex: 1, gap: spacing.sm, paddingHorizontal: spacing.lg, paddingTop: spacing.sm },
  searchRow: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm },
  searchField: {
    flex: 1,
    flexDirection: 'row',
    alignItems: 'center',
    // The height of the «+ Нова угода» button beside it.
    minHeight: 48,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 10,
    backgroundColor: colors.surface,
  },
  search: {
    flex: 1,
    minWidth: 0,
    minHeight: 46,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.sm,
    fontSize: 15,
    color: colors.text,
  },
  clear: { minWidth: MIN_TOUCH, minHeight: MIN_TOUCH, alignItems: 'center', justifyContent: 'center' },
  clearText: { fontSize: 20, lineHeight: 22, color: colors.muted },
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
