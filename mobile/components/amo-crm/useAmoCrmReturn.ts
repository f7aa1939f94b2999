import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';

import { amoCrmKeys, exchangeCode } from '@/api/amo-crm';
import { isApiError } from '@/api/client';
import { crmKeys } from '@/api/crm';
import type { ConnectionStatus } from '@/api/types';

import { connectNotice } from './connectNotice';
import type { ReturnOutcome } from './returnUrl';

/**
 * amoCRM codes are single-use, yet the same return can be delivered twice (Android sends the
 * deep link to the router *and* to the auth-session promise; StrictMode runs effects twice).
 * Every delivery of one code shares one exchange.
 */
const exchanges = new Map<string, Promise<ConnectionStatus>>();

function exchangeOnce(outcome: Extract<ReturnOutcome, { kind: 'exchange' }>) {
  let pending = exchanges.get(outcome.code);
  if (!pending) {
    const { code, state, referer, platform } = outcome;
    pending = exchangeCode({ code, state, referer, ...(platform ? { platform } : {}) });
    exchanges.set(outcome.code, pending);
  }
  return pending;
}

/** Test hook: forget codes seen by earlier tests. */
export function resetExchangesForTests(): void {
  exchanges.clear();
}

/**
 * Applies a return from amoCRM: records the notice the CRM tab shows and refreshes the
 * connection status. Safe to call any number of times with the same outcome.
 */
export function useAmoCrmReturn() {
  const queryClient = useQueryClient();

  const refreshStatus = useCallback(async () => {
    await queryClient.invalidateQueries({ queryKey: amoCrmKeys.status() });
    await queryClient.invalidateQueries({ queryKey: crmKeys.all });
  }, [queryClient]);

  const handle = useCallback(
    async (outcome: ReturnOutcome): Promise<void> => {
      switch (outcome.kind) {
        case 'connected':
          connectNotice.set({ kind: 'connected' });
          await refreshStatus();
          return;
        case 'error':
          connectNotice.set({ kind: 'error', code: outcome.code });
          await refreshStatus();
          return;
        case 'exchange':
          try {
            const status = await exchangeOnce(outcome);
            queryClient.setQueryData(amoCrmKeys.status(), status);
            await queryClient.invalidateQueries({ queryKey: crmKeys.all });
            connectNotice.set({ kind: 'connected' });
          } catch (error) {
            connectNotice.set({
              kind: 'error',
              code: isApiError(error) ? error.code : 'unknown',
            });
            await refreshStatus();
          }
          return;
        case 'unknown':
          // Nothing usable in the URL (e.g. Android returned without one): ask the backend.
          await refreshStatus();
          return;
      }
    },
    [queryClient, refreshStatus],
  );

  return { handle, refreshStatus };
}
