/**
 * The app's query client minus retry back-off and GC timers, so error states show at once.
 * Screen tests put it in place of the real module:
 * `jest.mock('@/api/queryClient', () => jest.requireActual('@/test-support/queryClientWithoutRetries'))`.
 */
import type { QueryClient } from '@tanstack/react-query';

const actual = jest.requireActual<typeof import('@/api/queryClient')>('@/api/queryClient');

export function createQueryClient(): QueryClient {
  const client = actual.createQueryClient();
  client.setDefaultOptions({
    queries: { ...client.getDefaultOptions().queries, retry: false, gcTime: Infinity },
    mutations: { retry: false, gcTime: Infinity },
  });
  return client;
}
