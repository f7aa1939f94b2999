import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';

import { amoCrmKeys } from './amo-crm';
import { isApiError } from './client';

/** CRM answers that mean the connection itself changed: the status must be fetched again. */
const CONNECTION_CHANGED_CODES = new Set(['amo_not_connected', 'amo_reauth_required']);

const MAX_RETRIES = 2;

function shouldRetry(failureCount: number, error: unknown): boolean {
  if (failureCount >= MAX_RETRIES) return false;
  // A 4xx will answer the same again; only network trouble and 5xx are worth retrying.
  if (isApiError(error)) return error.status === 0 || error.status >= 500;
  return false;
}

export function createQueryClient(): QueryClient {
  const recheckConnection = (error: unknown) => {
    if (isApiError(error) && CONNECTION_CHANGED_CODES.has(error.code)) {
      void queryClient.invalidateQueries({ queryKey: amoCrmKeys.status() });
    }
  };
  const queryClient: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError: recheckConnection }),
    // A new lead refused for the same reason (the connection died meanwhile) re-checks it too.
    mutationCache: new MutationCache({ onError: recheckConnection }),
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 30_000 },
      mutations: { retry: false },
    },
  });
  return queryClient;
}
