import { config } from '@/config';

/**
 * The one way the app talks to the backend: base URL from configuration, our bearer token,
 * the `{success, data}` envelope unwrapped, and every failure turned into an `ApiError`
 * carrying the envelope's stable `error.code`.
 */

/** Codes produced by the client itself when no envelope came back. */
export type ClientErrorCode = 'network_error' | 'bad_response';

export class ApiError extends Error {
  constructor(
    /** HTTP status, or 0 when the request never got an answer. */
    readonly status: number,
    /** The backend's stable error code (e.g. `amo_not_connected`) or a client code. */
    readonly code: string,
    message: string,
    readonly requestId: string | null = null,
    /** Seconds from a `Retry-After` header, when the backend sent one. */
    readonly retryAfter: number | null = null,
    /** The envelope's `error.details`: fields of a 422, steps of a failed new lead. */
    readonly details: readonly Record<string, unknown>[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get isUnauthorized(): boolean {
    return this.status === 401;
  }
}

export function isApiError(error: unknown, code?: string): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

type TokenSource = () => string | null;
type UnauthorizedListener = () => void;

let tokenSource: TokenSource = () => null;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** The session registers where the bearer token comes from. */
export function setTokenSource(source: TokenSource): void {
  tokenSource = source;
}

/** Called on every 401 from an authenticated request (the session signs out). */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export type QueryValue = string | number | boolean | null | undefined;

export type RequestOptions = {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, QueryValue>;
  /** Send the bearer token (default). Sign-in sends none. */
  authenticated?: boolean;
  /** Extra request headers, e.g. `Idempotency-Key` or `If-None-Match`. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
};

function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.append(key, String(value));
  }
  const search = params.toString();
  return `${config.apiUrl}${path}${search ? `?${search}` : ''}`;
}

type ErrorEnvelope = {
  success: false;
  error: { code: string; message: string; requestId?: string; details?: unknown };
};

function detailsOf(payload: ErrorEnvelope): Record<string, unknown>[] {
  const details = payload.error.details;
  if (!Array.isArray(details)) return [];
  return details.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
}

function isErrorEnvelope(body: unknown): body is ErrorEnvelope {
  if (typeof body !== 'object' || body === null) return false;
  const error = (body as { error?: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

function parseRetryAfter(response: Response): number | null {
  const header = response.headers.get('Retry-After');
  if (!header) return null;
  const seconds = Number(header);
  return Number.isFinite(seconds) ? seconds : null;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

type Sent = { envelope: Record<string, unknown> | null; etag: string | null };

/**
 * Performs the request and returns the raw success envelope with the response's `ETag`;
 * the envelope is null for a 304 (the caller's copy is still current).
 */
async function send(path: string, options: RequestOptions): Promise<Sent> {
  const { method = 'GET', body, query, authenticated = true, signal } = options;
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = authenticated ? tokenSource() : null;
  if (token) headers.Authorization = `Bearer ${token}`;

  let response: Response;
  try {
    response = await fetch(buildUrl(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new ApiError(0, 'network_error', 'The server could not be reached.');
  }

  const etag = response.headers.get('ETag');
  if (response.status === 304) return { envelope: null, etag };
  const payload = await readJson(response);
  if (!response.ok) {
    if (response.status === 401 && token) {
      for (const listener of unauthorizedListeners) listener();
    }
    if (isErrorEnvelope(payload)) {
      throw new ApiError(
        response.status,
        payload.error.code,
        payload.error.message,
        payload.error.requestId ?? null,
        parseRetryAfter(response),
        detailsOf(payload),
      );
    }
    throw new ApiError(
      response.status,
      response.status === 401 ? 'unauthorized' : 'bad_response',
      `Unexpected response (HTTP ${response.status}).`,
      null,
      parseRetryAfter(response),
    );
  }
  if (typeof payload !== 'object' || payload === null || (payload as { success?: unknown }).success !== true) {
    throw new ApiError(response.status, 'bad_response', 'The server sent an unexpected answer.');
  }
  return { envelope: payload as Record<string, unknown>, etag };
}

function unexpectedNotModified(): ApiError {
  return new ApiError(304, 'bad_response', 'The server sent an unexpected answer.');
}

/** Request whose success envelope carries `data`. */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { envelope } = await send(path, options);
  if (!envelope) throw unexpectedNotModified();
  return envelope.data as T;
}

/** Request whose success envelope carries only a `message`. */
export async function apiCommand(path: string, options: RequestOptions = {}): Promise<string> {
  const { envelope } = await send(path, { method: 'POST', ...options });
  if (!envelope) throw unexpectedNotModified();
  return typeof envelope.message === 'string' ? envelope.message : '';
}

/** Data the app keeps together with the `ETag` it came with. */
export type Tagged<T> = { data: T; etag: string | null };

/**
 * A GET that offers the ETag of the copy the app already has (`If-None-Match`): a 304 hands
 * back that copy unchanged, anything else the new data and its ETag.
 */
export async function apiGetConditional<T>(
  path: string,
  cached: Tagged<T> | undefined,
  options: Omit<RequestOptions, 'method' | 'body'> = {},
): Promise<Tagged<T>> {
  const conditional: Record<string, string> = cached?.etag ? { 'If-None-Match': cached.etag } : {};
  const { envelope, etag } = await send(path, {
    ...options,
    headers: { ...options.headers, ...conditional },
  });
  if (!envelope) {
    if (!cached) throw unexpectedNotModified();
    return cached;
  }
  return { data: envelope.data as T, etag };
}
