import { forgetReturnUrl, parseReturnParams, parseReturnUrl } from '@/components/amo-crm/returnUrl';

describe('amoCRM return URL', () => {
  test('server callback: connected', () => {
    expect(parseReturnUrl('foryouapp://amo-crm/callback?status=connected')).toEqual({ kind: 'connected' });
  });

  test('server callback: each error code is kept', () => {
    expect(parseReturnUrl('foryouapp://amo-crm/callback?status=error&code=amo_state_expired')).toEqual({
      kind: 'error',
      code: 'amo_state_expired',
    });
    expect(parseReturnParams({ status: 'error' })).toEqual({ kind: 'error', code: 'unknown' });
  });

  test('exchange-code mode carries code, state, referer and a known platform', () => {
    expect(
      parseReturnParams({ code: 'def502', state: 'st', referer: 'reforyou.amocrm.ru', platform: '1' }),
    ).toEqual({ kind: 'exchange', code: 'def502', state: 'st', referer: 'reforyou.amocrm.ru', platform: '1' });
    expect(parseReturnParams({ code: 'c', state: 's', referer: 'r', platform: '9' })).toEqual({
      kind: 'exchange',
      code: 'c',
      state: 's',
      referer: 'r',
    });
  });

  test("amoCRM's own denial in exchange-code mode", () => {
    expect(parseReturnParams({ error: 'access_denied', state: 's' })).toEqual({
      kind: 'error',
      code: 'amo_access_denied',
    });
  });

  test('incomplete or empty returns mean "ask the backend"', () => {
    expect(parseReturnParams({ code: 'c', state: 's' })).toEqual({ kind: 'unknown' });
    expect(parseReturnUrl('foryouapp://amo-crm/callback')).toEqual({ kind: 'unknown' });
  });

  test('server callback: a pending result carries its ticket; without one there is nothing to redeem', () => {
    expect(parseReturnUrl('foryouapp://amo-crm/callback?status=pending&ticket=Yq3v-W0_m9')).toEqual({
      kind: 'pending',
      ticket: 'Yq3v-W0_m9',
    });
    expect(parseReturnParams({ status: 'pending' })).toEqual({ kind: 'unknown' });
  });

  test('in a browser the query leaves the current history entry; elsewhere nothing happens', () => {
    const replaceState = jest.fn();
    const browser = {
      history: { state: { key: 'k' }, replaceState },
      location: { pathname: '/amo-crm/callback', search: '?status=pending&ticket=abc' },
    } as unknown as Pick<Window, 'history' | 'location'>;
    forgetReturnUrl(browser);
    expect(replaceState).toHaveBeenCalledWith({ key: 'k' }, '', '/amo-crm/callback');

    replaceState.mockClear();
    forgetReturnUrl({ ...browser, location: { ...browser.location, search: '' } });
    expect(replaceState).not.toHaveBeenCalled();
    expect(() => forgetReturnUrl({} as Pick<Window, 'history' | 'location'>)).not.toThrow();
  });
});
