import {
  type InfiniteData,
  type QueryClient,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { type RefObject, useCallback, useRef } from 'react';

import { apiGetConditional, apiRequest, type Tagged } from './client';
import type {
  CreatedLead,
  Lead,
  LeadChange,
  LeadDetail,
  LeadPage,
  NewLeadInput,
  Note,
  Pipeline,
  PipelineList,
} from './types';

export type LeadFilters = {
  pipelineId?: number;
  stageId?: number;
  query?: string;
  /** Only leads whose responsible user is the broker (the backend's default). */
  mine?: boolean;
  page?: number;
  limit?: number;
};

/** Filters of the CRM tab's lead list (paging is the list's own business). */
export type LeadListFilters = { pipelineId: number; stageId?: number; query?: string };

export const LEAD_PAGE_SIZE = 25;

/** Query keys of the broker's CRM data, all under `crmKeys.all` so one call drops them. */
export const crmKeys = {
  all: ['crm'] as const,
  pipelines: () => [...crmKeys.all, 'pipelines'] as const,
  leads: (filters: LeadFilters = {}) => [...crmKeys.all, 'leads', filters] as const,
  leadPages: () => [...crmKeys.all, 'lead-pages'] as const,
  leadList: (filters: LeadListFilters) => [...crmKeys.leadPages(), filters] as const,
  lead: (id: number) => [...crmKeys.all, 'lead', id] as const,
};

export type TaggedLeadPage = Tagged<LeadPage>;
export type LeadPages = InfiniteData<TaggedLeadPage, number>;

export function getPipelines(signal?: AbortSignal): Promise<Pipeline[]> {
  return apiRequest<{ items: Pipeline[] }>('/crm/pipelines', { signal }).then((data) => data.items);
}

export function getLeads(filters: LeadFilters = {}, signal?: AbortSignal): Promise<LeadPage> {
  const { mine = true, page = 1, limit = LEAD_PAGE_SIZE, pipelineId, stageId, query } = filters;
  return apiRequest<LeadPage>('/crm/leads', {
    query: { pipelineId, stageId, query, mine, page, limit },
    signal,
  });
}

export function getLead(id: number, signal?: AbortSignal): Promise<LeadDetail> {
  return apiRequest<LeadDetail>(`/crm/leads/${id}`, { signal });
}

/**
 * Creates a lead (contact, lead, note, "call the client" task). The same `idempotencyKey` with
 * the same input returns the first result instead of creating a second lead, and finishes a
 * create that failed part-way.
 */
export function createLead(input: NewLeadInput, idempotencyKey: string): Promise<CreatedLead> {
  return apiRequest<CreatedLead>('/crm/leads', {
    method: 'POST',
    body: input,
    headers: { 'Idempotency-Key': idempotencyKey },
  });
}

export function useLeads(filters: LeadFilters = {}, options: { enabled?: boolean } = {}) {
  return useQuery({
    queryKey: crmKeys.leads(filters),
    queryFn: ({ signal }) => getLeads(filters, signal),
    enabled: options.enabled ?? true,
  });
}

/**
 * Pull-to-refresh: the fetches it triggers send `refresh=true` (read amoCRM again instead of the
 * backend's short-lived copy); a focus refetch only offers the ETag.
 */
export function useForcedRefresh(forcedRef: RefObject<boolean>, refetch: () => Promise<unknown>) {
  return useCallback(async () => {
    forcedRef.current = true;
    try {
      await refetch();
    } finally {
      forcedRef.current = false;
    }
  }, [forcedRef, refetch]);
}

function fetchPipelines(queryClient: QueryClient, signal: AbortSignal, refresh: boolean) {
  return apiGetConditional<PipelineList>(
    '/crm/pipelines',
    queryClient.getQueryData<Tagged<PipelineList>>(crmKeys.pipelines()),
    { signal, query: { refresh: refresh || undefined } },
  );
}

/** The account's pipelines with their stages (ordered by the backend), kept with their ETag. */
export function usePipelines(options: { enabled?: boolean } = {}) {
  const queryClient = useQueryClient();
  const forcedRef = useRef(false);
  const query = useQuery({
    queryKey: crmKeys.pipelines(),
    queryFn: ({ signal }) => fetchPipelines(queryClient, signal, forcedRef.current),
    select: (tagged) => tagged.data.items,
    enabled: options.enabled ?? true,
  });
  const refresh = useForcedRefresh(forcedRef, query.refetch);
  return { ...query, refresh };
}

/** The amoCRM account's currency (ISO 4217), which comes with the pipelines; null when unknown. */
export function useAccountCurrency(): string | null {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: crmKeys.pipelines(),
    queryFn: ({ signal }) => fetchPipelines(queryClient, signal, false),
    select: (tagged) => tagged.data.currency ?? null,
  });
  return query.data ?? null;
}

function cachedPage(queryClient: QueryClient, filters: LeadListFilters, page: number) {
  return queryClient
    .getQueryData<LeadPages>(crmKeys.leadList(filters))
    ?.pages.find((tagged) => tagged.data.page === page);
}

/**
 * The CRM tab's leads, page by page (`page` / `hasMore`). Every page is fetched with the ETag of
 * the copy already held, so a refetch of unchanged data costs a 304 and no re-render.
 */
export function useLeadPages(filters: LeadListFilters, options: { enabled?: boolean } = {}) {
  const queryClient = useQueryClient();
  const forcedRef = useRef(false);
  const query = useInfiniteQuery({
    queryKey: crmKeys.leadList(filters),
    initialPageParam: 1,
    queryFn: ({ pageParam, signal }) =>
      apiGetConditional<LeadPage>('/crm/leads', cachedPage(queryClient, filters, pageParam), {
        signal,
        query: {
          pipelineId: filters.pipelineId,
          stageId: filters.stageId,
          query: filters.query,
          mine: true,
          page: pageParam,
          limit: LEAD_PAGE_SIZE,
          refresh: forcedRef.current || undefined,
        },
      }),
    getNextPageParam: (last) => (last.data.hasMore ? last.data.page + 1 : undefined),
    enabled: options.enabled ?? true,
  });
  const refresh = useForcedRefresh(forcedRef, query.refetch);
  return { ...query, refresh };
}

/** One lead with contacts, custom fields, tags and timeline, kept with its ETag. */
export function useLead(id: number, options: { enabled?: boolean } = {}) {
  const queryClient = useQueryClient();
  const forcedRef = useRef(false);
  const query = useQuery({
    queryKey: crmKeys.lead(id),
    queryFn: ({ signal }) =>
      apiGetConditional<LeadDetail>(
        `/crm/leads/${id}`,
        queryClient.getQueryData<Tagged<LeadDetail>>(crmKeys.lead(id)),
        { signal, query: { refresh: forcedRef.current || undefined } },
      ),
    select: (tagged) => tagged.data,
    enabled: options.enabled ?? true,
  });
  const refresh = useForcedRefresh(forcedRef, query.refetch);
  return { ...query, refresh };
}

function listShows(filters: LeadListFilters, lead: Lead): boolean {
  // A search result is amoCRM's to decide; only unfiltered or same-stage lists get the lead at once.
  if (filters.query) return false;
  if (filters.pipelineId !== lead.pipelineId) return false;
  return filters.stageId === undefined || filters.stageId === lead.stageId;
}

/** Puts a just-created lead at the top of every cached list that shows it. */
export function prependCreatedLead(queryClient: QueryClient, lead: Lead): void {
  for (const [key, data] of queryClient.getQueriesData<LeadPages>({ queryKey: crmKeys.leadPages() })) {
    const filters = key[key.length - 1] as LeadListFilters;
    if (!data || !listShows(filters, lead)) continue;
    const [first, ...rest] = data.pages;
    if (!first || first.data.items.some((item) => item.id === lead.id)) continue;
    // The page no longer equals what its ETag describes: never offer that ETag again.
    const updated: TaggedLeadPage = { data: { ...first.data, items: [lead, ...first.data.items] }, etag: null };
    queryClient.setQueryData<LeadPages>(key, { ...data, pages: [updated, ...rest] });
  }
}

export function useCreateLead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ input, idempotencyKey }: { input: NewLeadInput; idempotencyKey: string }) =>
      createLead(input, idempotencyKey),
    onSuccess: (created) => {
      prependCreatedLead(queryClient, created.lead);
      // Refetched in the background: the lead is already on screen, the rest catches up.
      void queryClient.invalidateQueries({ queryKey: crmKeys.leadPages() });
      void queryClient.invalidateQueries({ queryKey: crmKeys.leads() });
    },
  });
}

export function updateLead(id: number, change: LeadChange): Promise<LeadDetail> {
  return apiRequest<LeadDetail>(`/crm/leads/${id}`, { method: 'PATCH', body: change });
}

/** Adds a note; the same `idempotencyKey` with the same text returns the first note. */
export function addNote(leadId: number, text: string, idempotencyKey: string): Promise<Note> {
  return apiRequest<Note>(`/crm/leads/${leadId}/notes`, {
    method: 'POST',
    body: { text },
    headers: { 'Idempotency-Key': idempotencyKey },
  });
}

/** The lead as it will look after `change`, for showing it before amoCRM has answered. */
export function applyLeadChange(lead: LeadDetail, change: LeadChange, pipelines: Pipeline[]): LeadDetail {
  const next: LeadDetail = { ...lead };
  if (change.name !== undefined && change.name !== null) next.name = change.name;
  if (change.price !== undefined) next.price = change.price;
  if (change.statusId !== undefined && change.statusId !== null) {
    const pipeline = pipelines.find((candidate) => candidate.id === (change.pipelineId ?? lead.pipelineId));
    const stage = pipeline?.stages.find((candidate) => candidate.id === change.statusId);
    next.stageId = change.statusId;
    next.pipelineId = pipeline?.id ?? lead.pipelineId;
    next.pipelineName = pipeline?.name ?? lead.pipelineName;
    next.stageName = stage?.name ?? null;
    next.stageColor = stage?.color ?? null;
  }
  return next;
}

/** Lists and details that show a lead: refetched after it changed (here or in amoCRM). */
export function invalidateLead(queryClient: QueryClient, leadId: number): void {
  void queryClient.invalidateQueries({ queryKey: crmKeys.lead(leadId) });
  void queryClient.invalidateQueries({ queryKey: crmKeys.leadPages() });
  void queryClient.invalidateQueries({ queryKey: crmKeys.leads() });
}

/**
 * Changes a lead (stage, budget, name) at once on screen, and puts the old copy back when the
 * backend refuses; the backend's answer (re-read from amoCRM) replaces the guess.
 */
export function useUpdateLead(leadId: number) {
  const queryClient = useQueryClient();
  const key = crmKeys.lead(leadId);
  return useMutation({
    mutationFn: (change: LeadChange) => updateLead(leadId, change),
    onMutate: async (change) => {
      await queryClient.cancelQueries({ queryKey: key });
      const previous = queryClient.getQueryData<Tagged<LeadDetail>>(key);
      const pipelines = queryClient.getQueryData<Tagged<PipelineList>>(crmKeys.pipelines())?.data.items ?? [];
      if (previous) {
        // The guess is not what the ETag describes: never offer that ETag for it.
        queryClient.setQueryData<Tagged<LeadDetail>>(key, {
          data: applyLeadChange(previous.data, change, pipelines),
          etag: null,
        });
      }
      return { previous };
    },
    onError: (_error, _change, context) => {
      if (context?.previous) queryClient.setQueryData(key, context.previous);
    },
    onSuccess: (lead) => {
      queryClient.setQueryData<Tagged<LeadDetail>>(key, { data: lead, etag: null });
      void queryClient.invalidateQueries({ queryKey: crmKeys.leadPages() });
      void queryClient.invalidateQueries({ queryKey: crmKeys.leads() });
    },
  });
}

export function useAddNote(leadId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ text, idempotencyKey }: { text: string; idempotencyKey: string }) =>
      addNote(leadId, text, idempotencyKey),
    onSuccess: (note) => {
      const key = crmKeys.lead(leadId);
      const held = queryClient.getQueryData<Tagged<LeadDetail>>(key);
      if (held && !held.data.timeline.some((entry) => entry.id === `note:${note.id}`)) {
        const entry = {
          id: `note:${note.id}`,
          kind: 'note',
          type: 'common',
          text: note.text,
          createdAt: note.createdAt,
          createdBy: note.createdBy.id,
          createdByName: note.createdBy.name,
          details: {},
        } satisfies LeadDetail['timeline'][number];
        queryClient.setQueryData<Tagged<LeadDetail>>(key, {
          data: { ...held.data, timeline: [entry, ...held.data.timeline] },
          etag: null,
        });
      }
      void queryClient.invalidateQueries({ queryKey: key });
    },
  });
}
