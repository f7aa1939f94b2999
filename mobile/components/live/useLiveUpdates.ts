import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { AppState } from 'react-native';

import { crmKeys, invalidateLead } from '@/api/crm';
import { taskKeys } from '@/api/tasks';
import type { LiveEvent } from '@/api/types';
import { onSignOut } from '@/auth/signOutEvents';

import { liveNotice } from './liveNotice';
import { LiveStream } from './liveStream';

/** What each event makes the app re-read: the stream is a hint, the endpoints stay the truth. */
export function applyLiveEvent(queryClient: QueryClient, event: LiveEvent): void {
  switch (event.type) {
    case 'lead.changed':
      invalidateLead(queryClient, event.leadId);
      // A task shows its lead's name, and moving a lead may close its tasks.
      void queryClient.invalidateQueries({ queryKey: taskKeys.all });
      return;
    case 'lead.assigned':
      invalidateLead(queryClient, event.leadId);
      void queryClient.invalidateQueries({ queryKey: taskKeys.all });
      liveNotice.show({ leadId: event.leadId, name: event.name });
      return;
    case 'task.changed':
      void queryClient.invalidateQueries({ queryKey: taskKeys.all });
      return;
    case 'crm.invalidated':
      void queryClient.invalidateQueries({ queryKey: crmKeys.all });
      void queryClient.invalidateQueries({ queryKey: taskKeys.all });
      return;
    case 'reset':
      // Events were missed beyond what the backend keeps: everything may be stale.
      void queryClient.invalidateQueries();
      return;
  }
}

/**
 * Keeps the broker's screens current while the app is open: a live stream whose events
 * invalidate the CRM list, lead details and tasks, so they refetch within seconds without a
 * pull-to-refresh. Runs while `enabled` (signed in with CRM access); closes on sign-out, in the
 * background, and reconnects in the foreground resuming after the last event seen.
 */
export function useLiveUpdates(enabled: boolean): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    const stream = new LiveStream((event) => applyLiveEvent(queryClient, event));
    stream.start();
    const appState = AppState.addEventListener('change', (next) => {
      if (next === 'active') stream.resume();
      else if (next === 'background') stream.pause();
    });
    // The session ends before this screen re-renders: close at once, not a render later.
    const signedOut = onSignOut(() => stream.stop());
    return () => {
      appState.remove();
      signedOut();
      stream.stop();
    };
  }, [enabled, queryClient]);
}
