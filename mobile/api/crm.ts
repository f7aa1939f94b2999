import { useQuery } from '@tanstack/react-query';

import { apiRequest } from './client';
import type { LeadPage, Pipeline } from './types';

export type LeadFilters = {
  pipelineId?: number;
  stageId?: number;
  query?: string;
  /** Only leads whose responsible user is the broker (the backend's default). */
  mine?: boolean;
  page?: number;
  limit?: number;
};

/** Query keys of the broker's CRM data, all under `crmKeys.all` so one call drops them. */
export const crmKeys = {
  all: ['crm'] as const,
  pipelines: () => [...crmKeys.all, 'pipelines'] as const,
  leads: (filters: LeadFilters = {}) => [...crmKeys.all, 'leads', filters] as const,
};

export function getPipelines(signal?: AbortSignal): Promise<Pipeline[]> {
  return apiRequest<{ items: Pipeline[] }>('/crm/pipelines', { signal }).then((data) => data.items);
}

export function getLeads(filters: LeadFilters = {}, signal?: AbortSignal): Promise<LeadPage> {
  const { mine = true, page = 1, limit = 25, pipelineId, stageId, query } = filters;
  return apiRequest<LeadPage>('/crm/leads', {
    query: { pipelineId, stageId, query, mine, page, limit },
    signal,
  });
}

export function useLeads(filters: LeadFilters = {}, options: { enabled?: boolean } = {}) {
  return useQuery({
    queryKey: crmKeys.leads(filters),
    queryFn: ({ signal }) => getLeads(filters, signal),
    enabled: options.enabled ?? true,
  });
}
