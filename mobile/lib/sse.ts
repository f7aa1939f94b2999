/**
 * Server-Sent Events without a dependency: the browser's `EventSource` where there is one (the
 * web), else a reader on `XMLHttpRequest`, whose `responseText` grows as the stream arrives
 * (React Native has no `EventSource`, and its `fetch` hands out no streaming body).
 */

export type SseEvent = { type: string; data: string; id: string | null };

export type EventStreamHandlers = {
  onOpen(): void;
  onEvent(event: SseEvent): void;
  /** The stream failed or ended; it is closed and will not call again. */
  onError(): void;
};

export type EventStream = { close(): void };

/** How long a stream may stay silent: the backend sends a heartbeat comment every 15 s. */
export const SILENCE_LIMIT_MS = 45_000;

/**
 * Parses the `text/event-stream` format (WHATWG HTML, "server-sent events") chunk by chunk:
 * fields `event`, `data`, `id`; comments and `retry` ignored; a blank line ends an event.
 */
export function createSseParser(onEvent: (event: SseEvent) => void) {
  let buffer = '';
  let type = '';
  let data: string[] = [];
  let lastId: string | null = null;
  let sawData = false;

  const dispatch = () => {
    if (sawData) onEvent({ type: type || 'message', data: data.join('\n'), id: lastId });
    type = '';
    data = [];
    sawData = false;
  };

  const line = (text: string) => {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') {
      data.push(value);
      sawData = true;
    } else if (field === 'id' && !value.includes('\0')) lastId = value;
  };

  return {
    push(chunk: string): void {
      buffer += chunk;
      const lines = buffer.split(/\r\n|\r|\n/);
      // The last piece may be half a line; a lone trailing \r may still be half of \r\n.
      buffer = lines.pop() ?? '';
      for (const text of lines) line(text);
    },
  };
}

type EventSourceLike = {
  onopen: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  addEventListener(type: string, listener: (event: { data: string; lastEventId?: string }) => void): void;
  close(): void;
};
type EventSourceClass = new (url: string) => EventSourceLike;

function withEventSource(
  EventSourceImpl: EventSourceClass,
  url: string,
  types: readonly string[],
  handlers: EventStreamHandlers,
): EventStream {
  const source = new EventSourceImpl(url);
  let closed = false;
  source.onopen = () => {
    if (!closed) handlers.onOpen();
  };
  for (const type of types) {
    source.addEventListener(type, (event) => {
      if (!closed) handlers.onEvent({ type, data: event.data, id: event.lastEventId || null });
    });
  }
  source.onerror = () => {
    // EventSource would retry by itself with the same URL, but a stream ticket works once:
    // the caller reconnects with a fresh ticket and the last event id.
    if (closed) return;
    closed = true;
    source.close();
    handlers.onError();
  };
  return {
    close() {
      closed = true;
      source.close();
    },
  };
}

function withXhr(url: string, handlers: EventStreamHandlers): EventStream {
  const xhr = new XMLHttpRequest();
  const parser = createSseParser((event) => {
    if (!closed) handlers.onEvent(event);
  });
  let closed = false;
  let opened = false;
  let seen = 0;
  let silence: ReturnType<typeof setTimeout> | null = null;

  const fail = () => {
    if (closed) return;
    close();
    handlers.onError();
  };
  const watch = () => {
    if (silence) clearTimeout(silence);
    // A phone that lost its network often gets no error at all, only silence.
    silence = setTimeout(fail, SILENCE_LIMIT_MS);
  };
  const close = () => {
    closed = true;
    if (silence) clearTimeout(silence);
    xhr.abort();
  };

  xhr.onreadystatechange = () => {
    if (closed) return;
    if (xhr.readyState >= 2 && xhr.status !== 200) return fail();
    if (xhr.readyState >= 2 && !opened) {
      opened = true;
      handlers.onOpen();
    }
    if (xhr.readyState >= 3) {
      const text = xhr.responseText ?? '';
      if (text.length > seen) {
        parser.push(text.slice(seen));
        seen = text.length;
        watch();
      }
    }
    // The backend never ends a stream on purpose: an end is a loss.
    if (xhr.readyState === 4) fail();
  };
  xhr.onerror = fail;
  xhr.open('GET', url);
  xhr.setRequestHeader('Accept', 'text/event-stream');
  xhr.setRequestHeader('Cache-Control', 'no-cache');
  xhr.send();
  watch();
  return { close };
}

/** Opens a stream at `url`, listening for the named event `types`. */
export function openEventStream(url: string, types: readonly string[], handlers: EventStreamHandlers): EventStream {
  const EventSourceImpl = (globalThis as { EventSource?: EventSourceClass }).EventSource;
  return EventSourceImpl ? withEventSource(EventSourceImpl, url, types, handlers) : withXhr(url, handlers);
}
