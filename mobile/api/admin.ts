import {
  type InfiniteData,
  type QueryClient,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';

import { apiCommand, apiRequest } from './client';
import type {
  AdminPage,
  AdminUser,
  AdminUserStatus,
  AgencyConnection,
  AgencyTokenInput,
  Broker,
  BrokerEvent,
  BrokerState,
  CreatedUser,
  CreateUserInput,
} from './types';

export const ADMIN_PAGE_SIZE = 25;
/** The largest page the backend serves (`limit` ≤ 100): used to find one broker in few requests. */
const LARGEST_PAGE = 100;

export type BrokerFilters = { state?: BrokerState; q?: string };
export type UserFilters = { state?: AdminUserStatus; q?: string };

/** Query keys of the admin console, all under `adminKeys.all` (dropped on sign-out with the cache). */
export const adminKeys = {
  all: ['admin'] as const,
  brokers: () => [...adminKeys.all, 'brokers'] as const,
  brokerList: (filters: BrokerFilters) => [...adminKeys.brokers(), 'list', filters] as const,
  broker: (userId: string) => [...adminKeys.brokers(), 'one', userId] as const,
  events: (userId: string) => [...adminKeys.all, 'events', userId] as const,
  agency: () => [...adminKeys.all, 'agency'] as const,
  users: () => [...adminKeys.all, 'users'] as const,
  userList: (filters: UserFilters) => [...adminKeys.users(), filters] as const,
};

export function getBrokers(
  filters: BrokerFilters & { page?: number; limit?: number },
  signal?: AbortSignal,
): Promise<AdminPage<Broker>> {
  const { page = 1, limit = ADMIN_PAGE_SIZE, state, q } = filters;
  return apiRequest<AdminPage<Broker>>('/admin/brokers', { query: { page, limit, state, q }, signal });
}

export function getBrokerEvents(userId: string, page: number, signal?: AbortSignal): Promise<AdminPage<BrokerEvent>> {
  return apiRequest<AdminPage<BrokerEvent>>(`/admin/brokers/${encodeURIComponent(userId)}/events`, {
    query: { page, limit: ADMIN_PAGE_SIZE },
    signal,
  });
}

export function unlinkBroker(userId: string): Promise<string> {
  return apiCommand(`/admin/brokers/${encodeURIComponent(userId)}/unlink`);
}

export function requestReconnect({ userId, note }: { userId: string; note?: string }): Promise<string> {
  return apiCommand(`/admin/brokers/${encodeURIComponent(userId)}/request-reconnect`, {
    body: note ? { note } : {},
  });
}

export function getAgencyConnection(signal?: AbortSignal): Promise<AgencyConnection> {
  return apiRequest<AgencyConnection>('/admin/amo-crm/agency-connection', { signal });
}

export function setAgencyToken(input: AgencyTokenInput): Promise<AgencyConnection> {
  return apiRequest<AgencyConnection>('/admin/amo-crm/agency-connection', { method: 'POST', body: input });
}

export function adoptMyConnectionAsAgency(): Promise<AgencyConnection> {
  return apiRequest<AgencyConnection>('/admin/amo-crm/agency-connection/use-my-connection', { method: 'POST' });
}

export function removeAgencyConnection(): Promise<string> {
  return apiCommand('/admin/amo-crm/agency-connection', { method: 'DELETE' });
}

export function getUsers(filters: UserFilters & { page?: number }, signal?: AbortSignal): Promise<AdminPage<AdminUser>> {
  const { page = 1, state, q } = filters;
  return apiRequest<AdminPage<AdminUser>>('/admin/users', {
    query: { page, limit: ADMIN_PAGE_SIZE, state, q },
    signal,
  });
}

export function createUser(input: CreateUserInput): Promise<CreatedUser> {
  return apiRequest<CreatedUser>('/admin/users', { method: 'POST', body: input });
}

export function setUserBlocked({ userId, blocked }: { userId: string; blocked: boolean }): Promise<AdminUser> {
  return apiRequest<AdminUser>(`/admin/users/${encodeURIComponent(userId)}/${blocked ? 'block' : 'unblock'}`, {
    method: 'POST',
  });
}

function nextPage<T>(last: AdminPage<T>): number | undefined {
  return last.hasMore ? last.page + 1 : undefined;
}

export function useBrokerPages(filters: BrokerFilters) {
  return useInfiniteQuery({
    queryKey: adminKeys.brokerList(filters),
    queryFn: ({ pageParam, signal }) => getBrokers({ ...filters, page: pageParam }, signal),
    initialPageParam: 1,
    getNextPageParam: nextPage,
  });
}

/** A broker as some list already loaded them (the list screen opened the detail). */
function brokerFromLists(queryClient: QueryClient, userId: string): Broker | undefined {
  const lists = queryClient.getQueriesData<InfiniteData<AdminPage<Broker>>>({
    queryKey: [...adminKeys.brokers(), 'list'],
  });
  for (const [, data] of lists) {
    const found = data?.pages.flatMap((page) => page.items).find((item) => item.userId === userId);
    if (found) return found;
  }
  return undefined;
}

/**
 * The API has no single-broker read: the broker comes from the loaded lists at once, and is
 * looked up in the full list (100 a page) to stay current and for a cold deep link. `null`
 * when no such broker exists.
 */
async function findBroker(userId: string, signal?: AbortSignal): Promise<Broker | null> {
  for (let page = 1; ; page += 1) {
    const found = await getBrokers({ page, limit: LARGEST_PAGE }, signal);
    const broker = found.items.find((item) => item.userId === userId);
    if (broker) return broker;
    if (!found.hasMore) return null;
  }
}

export function useBroker(userId: string) {
  const queryClient = useQueryClient();
  return useQuery<Broker | null>({
    queryKey: adminKeys.broker(userId),
    queryFn: ({ signal }) => findBroker(userId, signal),
    placeholderData: () => brokerFromLists(queryClient, userId),
  });
}

export function useBrokerEvents(userId: string) {
  return useInfiniteQuery({
    queryKey: adminKeys.events(userId),
    queryFn: ({ pageParam, signal }) => getBrokerEvents(userId, pageParam, signal),
    initialPageParam: 1,
    getNextPageParam: nextPage,
  });
}

/** After an action on a broker: their row, every list and their timeline are read again. */
function refreshBroker(queryClient: QueryClient, userId: string) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: adminKeys.brokers() }),
    queryClient.invalidateQueries({ queryKey: adminKeys.events(userId) }),
  ]);
}

export function useUnlinkBroker() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: unlinkBroker,
    onSuccess: (_message, userId) => refreshBroker(queryClient, userId),
  });
}

export function useRequestReconnect() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: requestReconnect,
    onSuccess: (_message, { userId }) => refreshBroker(queryClient, userId),
  });
}

export function useAgencyConnection() {
  return useQuery({ queryKey: adminKeys.agency(), queryFn: ({ signal }) => getAgencyConnection(signal) });
}

/**
 * Setting or removing the agency connection changes the brokers' amoCRM names (they come from
 * its users catalogue), so the broker lists are read again too.
 */
function useAgencyMutation<TInput, TResult>(mutationFn: (input: TInput) => Promise<TResult>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: async (result) => {
      if (typeof result === 'object' && result !== null) queryClient.setQueryData(adminKeys.agency(), result);
      else await queryClient.invalidateQueries({ queryKey: adminKeys.agency() });
      await queryClient.invalidateQueries({ queryKey: adminKeys.brokers() });
    },
  });
}

export function useSetAgencyToken() {
  return useAgencyMutation(setAgencyToken);
}

export function useAdoptMyConnection() {
  return useAgencyMutation(adoptMyConnectionAsAgency);
}

export function useRemoveAgency() {
  return useAgencyMutation(removeAgencyConnection);
}

export function useUserPages(filters: UserFilters) {
  return useInfiniteQuery({
    queryKey: adminKeys.userList(filters),
    queryFn: ({ pageParam, signal }) => getUsers({ ...filters, page: pageParam }, signal),
    initialPageParam: 1,
    getNextPageParam: nextPage,
  });
}

/** A new broker appears in both the users and the brokers lists. */
export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createUser,
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: adminKeys.users() }),
        queryClient.invalidateQueries({ queryKey: adminKeys.brokers() }),
      ]),
  });
}

export function useSetUserBlocked() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: setUserBlocked,
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: adminKeys.users() }),
        queryClient.invalidateQueries({ queryKey: adminKeys.brokers() }),
      ]),
  });
}
