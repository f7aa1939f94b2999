import { useSyncExternalStore } from 'react';

import { onSignOut } from '@/auth/signOutEvents';

/** The lead just assigned to the broker, shown as an in-app notice until opened or closed. */
export type AssignedNotice = { leadId: number; name: string };

let current: AssignedNotice | null = null;
const listeners = new Set<() => void>();

function set(notice: AssignedNotice | null): void {
  current = notice;
  for (const listener of listeners) listener();
}

export const liveNotice = {
  get: (): AssignedNotice | null => current,
  show: (notice: AssignedNotice): void => set(notice),
  clear: (): void => set(null),
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

// A notice about one broker's lead must not greet the next person on this device.
onSignOut(() => liveNotice.clear());

export function useAssignedNotice(): AssignedNotice | null {
  return useSyncExternalStore(liveNotice.subscribe, liveNotice.get, liveNotice.get);
}
