import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';

import { amoCrmKeys, completeConnect, exchangeCode, getConnectionStatus } from '@/api/amo-crm';
import { isApiError } from '@/api/client';
import { crmKeys } from '@/api/crm';
import type { ConnectionStatus } from '@/api/types';

import { connectNotice } from './connectNotice';
import type { ReturnOutcome } from './returnUrl';

/**
 * amoCRM codes and return tickets are single-use, yet the same return can be delivered twice
 * (Android sends the deep link to the router *and* to the auth-session promise; StrictMode runs
 * effects twice). Every delivery of one code or ticket shares one request.
 */
const redemptions = new Map<string, Promise<ConnectionStatus>>();

function once(key: string, start: () => Promise<ConnectionStatus>): Promise<ConnectionStatus> {
  let pending = redemptions.get(key);
  if (!pending) {
    pending = start();
    redemptions.set(key, pending);
  }
  return pending;
}

type Redeemable = Extract<ReturnOutcome, { kind: 'exchange' | 'pending' }>;

function redeemOnce(outcome: Redeemable): Promise<ConnectionStatus> {
  if (outcome.kind === 'pending') {
    return once(`ticket:${outcome.ticket}`, () => completeConnect({ ticket: outcome.ticket }));
  }
  const { code, state, referer, platform } = outcome;
  return once(`code:${code}`, () => exchangeCode({ code, state, referer, ...(platform ? { platform } : {}) }));
}

/** Test hook: forget codes and tickets seen by earlier tests. */
export function resetExchangesForTests(): void {
  redemptions.clear();
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

  /** The status as the backend sees it now, or null when it cannot be asked. */
  const fetchStatus = useCallback(
    () =>
      queryClient
        .fetchQuery({
          queryKey: amoCrmKeys.status(),
          queryFn: ({ signal }) => getConnectionStatus(signal),
          staleTime: 0,
        })
        .catch(() => null),
    [queryClient],
  );

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
        case 'pending':
          try {
            const status = await redeemOnce(outcome);
            queryClient.setQueryData(amoCrmKeys.status(), status);
            await queryClient.invalidateQueries({ queryKey: crmKeys.all });
            connectNotice.set({ kind: 'connected' });
          } catch (error) {
            const code = isApiError(error) ? error.code : 'unknown';
            // A ticket already redeemed is most likely this very connection delivered again
            // (a reload, a second app start from the same link): the status decides.
            if (code === 'amo_ticket_invalid' && (await fetchStatus())?.state === 'connected') {
              connectNotice.set({ kind: 'connected' });
            } else {
              connectNotice.set({ kind: 'error', code });
            }
            await refreshStatus();
          }
          return;
        case 'unknown':
          // Nothing usable in the URL (e.g. Android returned without one): ask the backend.
          await refreshStatus();
          return;
      }
    },
    [fetchStatus, queryClient, refreshStatus],
  );

  return { handle, refreshStatus };
}
