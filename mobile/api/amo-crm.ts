import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { apiCommand, apiRequest } from './client';
import { crmKeys } from './crm';
import type {
  AuthorizeClient,
  AuthorizeResult,
  CompleteConnectInput,
  ConnectionStatus,
  ExchangeCodeInput,
} from './types';

const BASE = '/integrations/amo-crm';

/** Query keys of the amoCRM connection; mutations invalidate `amoCrmKeys.status()`. */
export const amoCrmKeys = {
  all: ['amo-crm'] as const,
  status: () => [...amoCrmKeys.all, 'status'] as const,
};

export function getConnectionStatus(signal?: AbortSignal): Promise<ConnectionStatus> {
  return apiRequest<ConnectionStatus>(`${BASE}/status`, { signal });
}

/** Starts a connect flow; the URL opens the backend's `/oauth/start`, never amoCRM directly. */
export function authorize(client: AuthorizeClient): Promise<AuthorizeResult> {
  return apiRequest<AuthorizeResult>(`${BASE}/authorize`, { method: 'POST', body: { client } });
}

/** The seed's exchange-code mode: the app received `code`, `state`, `referer` on an app link. */
export function exchangeCode(input: ExchangeCodeInput): Promise<ConnectionStatus> {
  return apiRequest<ConnectionStatus>(`${BASE}/exchange-code`, { method: 'POST', body: input });
}

/**
 * Redeems the ticket of a `?status=pending&ticket=…` return: the backend turns the consent it
 * holds for this flow into the caller's connection, once, and only for the flow's owner.
 */
export function completeConnect(input: CompleteConnectInput): Promise<ConnectionStatus> {
  return apiRequest<ConnectionStatus>(`${BASE}/complete`, { method: 'POST', body: input });
}

export function disconnect(): Promise<string> {
  return apiCommand(`${BASE}/disconnect`);
}

export function useAmoCrmStatus(options: { enabled?: boolean } = {}) {
  return useQuery({
    queryKey: amoCrmKeys.status(),
    queryFn: ({ signal }) => getConnectionStatus(signal),
    enabled: options.enabled ?? true,
  });
}

export function useAuthorize() {
  return useMutation({ mutationFn: authorize });
}

export function useExchangeCode() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: exchangeCode,
    onSuccess: (status) => {
      queryClient.setQueryData(amoCrmKeys.status(), status);
      void queryClient.invalidateQueries({ queryKey: crmKeys.all });
    },
  });
}

export function useDisconnect() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: disconnect,
    onSuccess: async () => {
      // The broker's CRM data must not outlive the connection it was read through.
      queryClient.removeQueries({ queryKey: crmKeys.all });
      await queryClient.invalidateQueries({ queryKey: amoCrmKeys.status() });
    },
  });
}
