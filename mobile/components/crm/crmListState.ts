import { useSyncExternalStore } from 'react';

import { onSignOut } from '@/auth/signOutEvents';

/**
 * What the broker chose on the CRM tab: pipeline, stage and search, plus the lead they just
 * created. Shared with the new-lead screen, which points the list at the new lead's pipeline.
 */
export type CrmListState = {
  pipelineId: number | null;
  stageId: number | null;
  search: string;
  created: { id: number; name: string } | null;
};

const initial: CrmListState = { pipelineId: null, stageId: null, search: '', created: null };

let state: CrmListState = initial;
const listeners = new Set<() => void>();

export const crmListState = {
  get: (): CrmListState => state,
  update(change: Partial<CrmListState>): void {
    state = { ...state, ...change };
    for (const listener of listeners) listener();
  },
  reset(): void {
    state = initial;
    for (const listener of listeners) listener();
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

// The next person who signs in on this device starts with a clean CRM tab.
onSignOut(() => crmListState.reset());

export function useCrmListState(): CrmListState {
  return useSyncExternalStore(crmListState.subscribe, crmListState.get, crmListState.get);
}
