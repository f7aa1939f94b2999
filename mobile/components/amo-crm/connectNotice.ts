import { useSyncExternalStore } from 'react';

/**
 * The outcome of the last connect attempt, shown on the CRM tab. It lives outside React so the
 * callback route, the auth-session promise and the CRM tab all see the same value, and setting
 * it twice (duplicate delivery) changes nothing.
 */
export type ConnectNotice =
  | { kind: 'connected' }
  | { kind: 'disconnected' }
  | { kind: 'cancelled' }
  | { kind: 'error'; code: string };

let current: ConnectNotice | null = null;
const listeners = new Set<() => void>();

function emit(): void {
  for (const listener of listeners) listener();
}

export const connectNotice = {
  get(): ConnectNotice | null {
    return current;
  },
  set(next: ConnectNotice): void {
    current = next;
    emit();
  },
  clear(): void {
    if (current === null) return;
    current = null;
    emit();
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useConnectNotice(): ConnectNotice | null {
  return useSyncExternalStore(connectNotice.subscribe, connectNotice.get, connectNotice.get);
}
