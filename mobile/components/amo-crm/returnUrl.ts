/**
 * What came back from the amoCRM consent round trip, read from the return URL's query.
 *
 * Two modes reach `/amo-crm/callback`:
 * - server callback (default): the backend checked amoCRM's answer and holds the result for the
 *   flow; it sends `status=pending&ticket=<ticket>`, which the app redeems once as the signed-in
 *   user (`POST /complete`), or `status=error&code=<error code>` (older backends: `status=connected`);
 * - exchange-code (deployments whose Redirect URI is an app link): amoCRM itself sends `code`,
 *   `state`, `referer` (and `platform`), which the app hands to the backend exactly once;
 *   amoCRM's own denial arrives as `error=access_denied`.
 */
import type { ExchangeCodeInput } from '@/api/types';

type AmoPlatform = NonNullable<ExchangeCodeInput['platform']>;

function amoPlatform(value: string | undefined): AmoPlatform | undefined {
  // amoCRM: 1 = amocrm.ru, 2 = kommo.com.
  return value === '1' || value === '2' ? value : undefined;
}

export type ReturnOutcome =
  | { kind: 'connected' }
  | { kind: 'pending'; ticket: string }
  | { kind: 'error'; code: string }
  | { kind: 'exchange'; code: string; state: string; referer: string; platform?: AmoPlatform }
  | { kind: 'unknown' };

export type ReturnParams = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string | undefined {
  const single = Array.isArray(value) ? value[0] : value;
  return single === undefined || single === '' ? undefined : single;
}

export function parseReturnParams(params: ReturnParams): ReturnOutcome {
  const status = first(params.status);
  if (status === 'connected') return { kind: 'connected' };
  const ticket = first(params.ticket);
  if (status === 'pending' && ticket) return { kind: 'pending', ticket };
  if (status === 'error') return { kind: 'error', code: first(params.code) ?? 'unknown' };

  if (first(params.error) === 'access_denied') return { kind: 'error', code: 'amo_access_denied' };
  const code = first(params.code);
  const state = first(params.state);
  const referer = first(params.referer);
  if (code && state && referer) {
    const platform = amoPlatform(first(params.platform));
    return { kind: 'exchange', code, state, referer, ...(platform ? { platform } : {}) };
  }
  return { kind: 'unknown' };
}

export function parseReturnUrl(url: string): ReturnOutcome {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return { kind: 'unknown' };
  const params: ReturnParams = {};
  new URLSearchParams(url.slice(queryStart + 1).split('#')[0]).forEach((value, key) => {
    if (!(key in params)) params[key] = value;
  });
  return parseReturnParams(params);
}

type BrowserWindow = Pick<Window, 'location' | 'history'>;

/**
 * In a browser the return URL stays in the address bar and in the history entry, where a
 * ticket or an amoCRM code must not linger once read: the entry is replaced by the bare path.
 * A phone's deep link leaves nothing behind (React Native has no `window.history`).
 */
export function forgetReturnUrl(
  browser: BrowserWindow | undefined = typeof window === 'undefined' ? undefined : window,
): void {
  if (typeof browser?.history?.replaceState !== 'function' || !browser.location?.search) return;
  // Keeping the router's history state: only the visible URL changes.
  browser.history.replaceState(browser.history.state, '', browser.location.pathname);
}
