import { QueryClientProvider } from '@tanstack/react-query';
import { act, renderHook, waitFor } from '@testing-library/react-native';
import type { PropsWithChildren } from 'react';

import { crmKeys, type LeadPages, prependCreatedLead, useLead, useLeadPages, usePipelines } from '@/api/crm';
import { setTokenSource } from '@/api/client';
import type { Lead } from '@/api/types';
import { useSubmitLead } from '@/components/crm/useSubmitLead';
import { connected, installFakeBackend, sampleLeads } from '@/test-support/fakeBackend';
import { testQueryClient } from '@/test-support/render';

function setup() {
  const backend = installFakeBackend();
  backend.status = connected;
  const queryClient = testQueryClient();
  const wrapper = ({ children }: PropsWithChildren) => (
    <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
  );
  return { backend, queryClient, wrapper };
}

describe('CRM hooks', () => {
  beforeEach(() => setTokenSource(() => 'app-jwt-for-tests'));

  test('pipelines: a refetch offers the ETag, and a 304 keeps the very same data', async () => {
    const { backend, wrapper } = setup();
    const { result } = await renderHook(() => usePipelines(), { wrapper });
    await waitFor(() => expect(result.current.data).toHaveLength(2));
    const first = result.current.data;
    expect(backend.requests[0]?.headers['If-None-Match']).toBeUndefined();

    // The refetch's own outcome, not `result.current`: the hook's re-render is scheduled after
    // the fetch settles, so reading it at once could see the old copy whether or not a 304 kept it.
    let refetched: Awaited<ReturnType<typeof result.current.refetch>> | undefined;
    await act(async () => {
      refetched = await result.current.refetch();
    });
    const conditional = backend.requests.at(-1);
    expect(conditional?.headers['If-None-Match']).toMatch(/^"/);
    expect(refetched?.status).toBe('success');
    expect(refetched?.data).toBe(first);

    // Changed on the server: a 200 with the new data replaces the copy.
    backend.pipelines = backend.pipelines.slice(0, 1);
    await act(async () => {
      await result.current.refresh();
    });
    expect(backend.requests.at(-1)?.query.refresh).toBe('true');
    await waitFor(() => expect(result.current.data).toHaveLength(1));
  });

  test('lead details: 304 on refetch, 404 as an error with code not_found', async () => {
    const { backend, wrapper } = setup();
    const { result } = await renderHook(() => ({ known: useLead(101), missing: useLead(999) }), { wrapper });
    await waitFor(() => expect(result.current.known.data?.name).toBe('Квартира на Подолі'));
    await waitFor(() => expect(result.current.missing.error).toMatchObject({ status: 404, code: 'not_found' }));
    const known = result.current.known.data;
    // The refetch's own outcome: `result.current` re-renders only after a scheduled notification,
    // so reading it at once would show the copy from before the refetch, 304 or not.
    let refetched: Awaited<ReturnType<typeof result.current.known.refetch>> | undefined;
    await act(async () => {
      refetched = await result.current.known.refetch();
    });
    expect(backend.requests.filter((r) => r.path === '/crm/leads/101').at(-1)?.headers['If-None-Match']).toMatch(/^"/);
    expect(refetched?.status).toBe('success');
    expect(refetched?.data?.name).toBe('Квартира на Подолі');
    expect(refetched?.data).toBe(known);
  });

  test('lead pages: every page keeps its own ETag', async () => {
    const { backend, wrapper } = setup();
    backend.leads = Array.from({ length: 30 }, (_, i) => ({ ...(sampleLeads[0] as Lead), id: 2000 + i }));
    const { result } = await renderHook(() => useLeadPages({ pipelineId: 10 }), { wrapper });
    await waitFor(() => expect(result.current.data?.pages).toHaveLength(1));
    await act(async () => {
      await result.current.fetchNextPage();
    });
    // The second page's render may land after the fetch's promise on a busy machine: wait for it.
    await waitFor(() => expect(result.current.data?.pages).toHaveLength(2));
    expect(result.current.hasNextPage).toBe(false);
    await act(async () => {
      await result.current.refetch();
    });
    const refetched = backend.requests.slice(-2);
    expect(refetched.map((r) => r.query.page)).toEqual(['1', '2']);
    expect(new Set(refetched.map((r) => r.headers['If-None-Match'])).size).toBe(2);
  });

  test('a created lead goes on top of the lists that show it, and only those', async () => {
    const { queryClient } = setup();
    const page = (items: Lead[]) => ({ pages: [{ data: { items, page: 1, limit: 25, hasMore: false }, etag: '"x"' }], pageParams: [1] });
    queryClient.setQueryData(crmKeys.leadList({ pipelineId: 10 }), page([sampleLeads[1] as Lead]));
    queryClient.setQueryData(crmKeys.leadList({ pipelineId: 10, stageId: 12 }), page([]));
    queryClient.setQueryData(crmKeys.leadList({ pipelineId: 10, query: 'Буд' }), page([]));
    queryClient.setQueryData(crmKeys.leadList({ pipelineId: 20 }), page([]));
    const created: Lead = { ...(sampleLeads[0] as Lead), id: 7777, pipelineId: 10, stageId: 11 };

    prependCreatedLead(queryClient, created);
    prependCreatedLead(queryClient, created); // twice changes nothing

    const ids = (filters: Parameters<typeof crmKeys.leadList>[0]) =>
      queryClient.getQueryData<LeadPages>(crmKeys.leadList(filters))?.pages[0];
    expect(ids({ pipelineId: 10 })?.data.items.map((lead) => lead.id)).toEqual([7777, 102]);
    expect(ids({ pipelineId: 10 })?.etag).toBeNull();
    expect(ids({ pipelineId: 10, stageId: 12 })?.data.items).toEqual([]);
    expect(ids({ pipelineId: 10, query: 'Буд' })?.data.items).toEqual([]);
    expect(ids({ pipelineId: 20 })?.data.items).toEqual([]);
  });

  test('submit: one key per submit, the same key for a retry of the same body', async () => {
    const { backend, wrapper } = setup();
    backend.failOnce('POST', '/crm/leads', 503, 'amo_upstream_unavailable');
    const { result } = await renderHook(() => useSubmitLead(), { wrapper });
    const input = { pipelineId: 10, stageId: 11, name: 'Іван' };
    await act(async () => {
      await expect(result.current.submit(input)).rejects.toMatchObject({ code: 'amo_upstream_unavailable' });
    });
    await act(async () => {
      await result.current.submit(input);
    });
    await act(async () => {
      await result.current.submit(input); // a new submit after success: a new lead, a new key
    });
    const keys = backend.requests.filter((r) => r.method === 'POST').map((r) => r.headers['Idempotency-Key']);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[1]);
    expect(backend.created).toHaveLength(2);
  });
});
