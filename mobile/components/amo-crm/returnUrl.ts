/**
 * What came back from the amoCRM consent round trip, read from the return URL's query.
 *
 * Two modes reach `/amo-crm/callback`:
 * - server callback (default): the backend already finished and sends `status=connected` or
 *   `status=error&code=<error code>`; nothing secret is in the URL;
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
