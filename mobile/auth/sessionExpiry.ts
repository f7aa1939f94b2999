import { useSyncExternalStore } from 'react';

import { onUnauthorized } from '@/api/client';

/**
 * Whether the backend refused the app's session token (a 401 on an authenticated call, also
 * when a saved session is restored). The session signs out on that 401; this remembers why, so
 * the sign-in screen can say "your session has ended" instead of appearing without a word.
 * Cleared once the broker signs in again.
 */
let ended = false;
const listeners = new Set<() => void>();

function set(next: boolean): void {
  if (ended === next) return;
  ended = next;
  for (const listener of listeners) listener();
}

export const sessionExpiry = {
  /**
   * Starts listening for refused tokens; returns the stop function. The root layout calls it,
   * so it listens before any screen (the web build loads a route's module only when it renders).
   */
  track: (): (() => void) => onUnauthorized(() => set(true)),
  hasEnded: (): boolean => ended,
  clear: (): void => set(false),
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useSessionEnded(): boolean {
  return useSyncExternalStore(sessionExpiry.subscribe, sessionExpiry.hasEnded, sessionExpiry.hasEnded);
}
