import { ApiError, apiCommand, apiRequest, onUnauthorized, setTokenSource } from '@/api/client';
import { config } from '@/config';
import { installFakeBackend } from '@/test-support/fakeBackend';

describe('api client', () => {
  beforeEach(() => setTokenSource(() => 'app-jwt-for-tests'));

  test('sends the bearer token to the configured base URL and unwraps data', async () => {
    const backend = installFakeBackend();
    const status = await apiRequest<{ state: string }>('/integrations/amo-crm/status');
    expect(status.state).toBe('not_connected');
    const call = (global.fetch as jest.Mock).mock.calls[0] as [string, RequestInit];
    expect(call[0]).toBe(`${config.apiUrl}/integrations/amo-crm/status`);
    expect(backend.requests[0]?.authorization).toBe('Bearer app-jwt-for-tests');
  });

  test('leaves out empty query values', async () => {
    const backend = installFakeBackend();
    backend.status = { ...backend.status, state: 'connected' };
    await apiRequest('/crm/leads', { query: { mine: true, page: 1, query: '', stageId: undefined } });
    expect(backend.requests[0]?.query).toEqual({ mine: 'true', page: '1' });
  });

  test('turns the error envelope into a typed ApiError', async () => {
    const backend = installFakeBackend();
    backend.replyOnce('GET', '/crm/leads', {
      status: 503,
      headers: { 'Retry-After': '7' },
      body: { success: false, error: { code: 'amo_upstream_unavailable', message: 'Later.', requestId: 'r-1' } },
    });
    const error = await apiRequest('/crm/leads').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 503, code: 'amo_upstream_unavailable', requestId: 'r-1', retryAfter: 7 });
  });

  test('a 401 on an authenticated call tells the session to sign out', async () => {
    const backend = installFakeBackend();
    backend.token = 'rotated';
    const listener = jest.fn();
    const unsubscribe = onUnauthorized(listener);
    const error = await apiRequest('/auth/me').catch((caught: unknown) => caught);
    unsubscribe();
    expect(error).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(listener).toHaveBeenCalledTimes(1);
  });

  test('a 401 from sign-in (no token sent) does not sign anyone out', async () => {
    installFakeBackend();
    const listener = jest.fn();
    const unsubscribe = onUnauthorized(listener);
    const error = await apiRequest('/auth/login', {
      method: 'POST',
      body: { email: 'x@y.z', password: 'nope' },
      authenticated: false,
    }).catch((caught: unknown) => caught);
    unsubscribe();
    expect(error).toMatchObject({ code: 'invalid_credentials' });
    expect(listener).not.toHaveBeenCalled();
  });

  test('a refused connection is a network_error', async () => {
    global.fetch = jest.fn(async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    await expect(apiRequest('/auth/me')).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  test('a non-envelope answer is a bad_response, not a crash', async () => {
    const backend = installFakeBackend();
    backend.replyOnce('GET', '/auth/me', { status: 502, body: '<html>bad gateway</html>' });
    await expect(apiRequest('/auth/me')).rejects.toMatchObject({ status: 502, code: 'bad_response' });
  });

  test('commands return the envelope message', async () => {
    installFakeBackend();
    await expect(apiCommand('/integrations/amo-crm/disconnect')).resolves.toBe('Disconnected.');
  });
});
