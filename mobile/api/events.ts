import { config } from '@/config';

import { apiRequest } from './client';
import type { StreamTicket } from './types';

/** A single-use, short-lived pass for the stream (a browser's EventSource cannot send headers). */
export function getStreamTicket(): Promise<StreamTicket> {
  return apiRequest<StreamTicket>('/events/stream-ticket', { method: 'POST' });
}

/** Where the stream is read; `lastEventId` resumes after the last event the app saw. */
export function streamUrl(ticket: string, lastEventId: string | null): string {
  const params = new URLSearchParams({ ticket });
  if (lastEventId) params.set('lastEventId', lastEventId);
  return `${config.apiUrl}/events/stream?${params.toString()}`;
}

/** The named events of `GET /events/stream`. */
export const LIVE_EVENT_TYPES = ['lead.changed', 'lead.assigned', 'task.changed', 'crm.invalidated', 'reset'] as const;
