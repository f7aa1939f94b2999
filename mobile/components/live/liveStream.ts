import { getStreamTicket, LIVE_EVENT_TYPES, streamUrl } from '@/api/events';
import type { LiveEvent } from '@/api/types';
import { type EventStream, openEventStream, type SseEvent } from '@/lib/sse';

/** Waits before reconnecting: 1 s, 2 s, 4 s … up to 30 s, a little spread so brokers do not stampede. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1_000 * 2 ** attempt);
  return Math.round(base * (0.8 + 0.2 * random()));
}

function numberField(payload: Record<string, unknown>, field: string): number | null {
  const value = payload[field];
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

/** Reads one stream event; anything the app does not understand is dropped. */
export function parseLiveEvent(event: SseEvent): LiveEvent | null {
  if (event.type === 'reset') return { type: 'reset' };
  let payload: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(event.data || '{}');
    if (typeof parsed === 'object' && parsed !== null) payload = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const leadId = numberField(payload, 'leadId');
  switch (event.type) {
    case 'lead.changed':
      return leadId === null ? null : { type: 'lead.changed', leadId };
    case 'lead.assigned': {
      const name = typeof payload.name === 'string' ? payload.name : '';
      return leadId === null ? null : { type: 'lead.assigned', leadId, name };
    }
    case 'task.changed': {
      const taskId = numberField(payload, 'taskId');
      return taskId === null ? null : { type: 'task.changed', taskId };
    }
    case 'crm.invalidated':
      return { type: 'crm.invalidated' };
    default:
      return null;
  }
}

export type LiveStreamState = 'idle' | 'connecting' | 'open' | 'waiting';

/**
 * One live connection for the signed-in broker: fetches a ticket, opens the stream, and after a
 * loss reconnects with backoff, resuming after the last event id it saw. `pause` (app in the
 * background) closes it; `resume` (foreground) reconnects at once.
 */
export class LiveStream {
  private stream: EventStream | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  /** Bumped by every stop/pause, so a ticket that arrives afterwards opens nothing. */
  private generation = 0;
  private running = false;
  lastEventId: string | null = null;
  state: LiveStreamState = 'idle';

  constructor(private readonly onEvent: (event: LiveEvent) => void) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.lastEventId = null;
    this.close();
    this.state = 'idle';
  }

  /** The app went to the background: no stream while nobody looks. */
  pause(): void {
    if (!this.running) return;
    this.close();
    this.state = 'waiting';
  }

  /** The app is in front again: reconnect now, whatever the backoff said. */
  resume(): void {
    if (!this.running || this.state === 'open' || this.state === 'connecting') return;
    this.close();
    this.attempt = 0;
    this.connect();
  }

  private close(): void {
    this.generation += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stream?.close();
    this.stream = null;
  }

  private connect(): void {
    const generation = this.generation;
    this.state = 'connecting';
    getStreamTicket()
      .then(({ ticket }) => {
        if (generation !== this.generation || !this.running) return;
        this.stream = openEventStream(streamUrl(ticket, this.lastEventId), LIVE_EVENT_TYPES, {
          onOpen: () => {
            this.state = 'open';
            this.attempt = 0;
          },
          onEvent: (event) => {
            if (event.id) this.lastEventId = event.id;
            const live = parseLiveEvent(event);
            if (live) this.onEvent(live);
          },
          onError: () => {
            if (generation === this.generation) this.retryLater();
          },
        });
      })
      .catch(() => {
        if (generation === this.generation) this.retryLater();
      });
  }

  private retryLater(): void {
    if (!this.running) return;
    this.stream = null;
    this.state = 'waiting';
    const delay = reconnectDelay(this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
