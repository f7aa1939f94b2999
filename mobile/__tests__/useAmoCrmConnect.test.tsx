import { act, renderHook, waitFor } from '@testing-library/react-native';
import { QueryClientProvider } from '@tanstack/react-query';
import * as WebBrowser from 'expo-web-browser';
import type { PropsWithChildren } from 'react';

import { amoCrmKeys, useAmoCrmStatus } from '@/api/amo-crm';
import { setTokenSource } from '@/api/client';
import { connectNotice } from '@/components/amo-crm/connectNotice';
import { parseReturnUrl } from '@/components/amo-crm/returnUrl';
import { connectMode, useAmoCrmConnect } from '@/components/amo-crm/useAmoCrmConnect';
import { useAmoCrmReturn } from '@/components/amo-crm/useAmoCrmReturn';
import { connected, installFakeBackend } from '@/test-support/fakeBackend';
import { testQueryClient } from '@/test-support/render';

// The system browser is the operating system's; it cannot run under jest.
jest.mock('expo-web-browser', () => ({ openAuthSessionAsync: jest.fn() }));
const openAuthSession = WebBrowser.openAuthSessionAsync as jest.MockedFunction<
  typeof WebBrowser.openAuthSessionAsync
>;

function setup() {
  const backend = installFakeBackend();
  const queryClient = testQueryClient();
  const wrapper = ({ children }: PropsWithChildren) => (
    <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
  );
  return { backend, queryClient, wrapper };
}

describe('connecting amoCRM', () => {
  beforeEach(() => setTokenSource(() => 'app-jwt-for-tests'));

  test('mode: the system browser on phones, a window redirect on the web, WebView only when set', () => {
    expect(connectMode('ios', false)).toBe('auth-session');
    expect(connectMode('android', false)).toBe('auth-session');
    expect(connectMode('web', false)).toBe('web-redirect');
    expect(connectMode('web', true)).toBe('web-redirect');
    expect(connectMode('android', true)).toBe('webview');
  });

  test('native: opens an auth session on the backend URL with the scheme return URL', async () => {
    const { backend, wrapper } = setup();
    openAuthSession.mockImplementation(async () => {
      backend.status = connected; // the broker allowed access meanwhile
      return { type: 'success', url: 'foryouapp://amo-crm/callback?status=connected' };
    });
    const { result } = await renderHook(
      () => ({ connect: useAmoCrmConnect({ mode: 'auth-session' }), status: useAmoCrmStatus() }),
      { wrapper },
    );
    await waitFor(() => expect(result.current.status.data?.state).toBe('not_connected'));

    await act(() => result.current.connect.connect());

    expect(backend.requests.find((r) => r.path.endsWith('/authorize'))?.body).toEqual({ client: 'native' });
    expect(openAuthSession).toHaveBeenCalledWith(
      expect.stringContaining('/oauth/start?flow=flow-native-'),
      'foryouapp://amo-crm/callback',
    );
    await waitFor(() => expect(result.current.status.data?.state).toBe('connected'));
    expect(connectNotice.get()).toEqual({ kind: 'connected' });
  });

  test('native: an error return shows its code', async () => {
    const { wrapper } = setup();
    openAuthSession.mockResolvedValue({
      type: 'success',
      url: 'foryouapp://amo-crm/callback?status=error&code=amo_access_denied',
    });
    const { result } = await renderHook(() => useAmoCrmConnect({ mode: 'auth-session' }), { wrapper });
    await act(() => result.current.connect());
    expect(connectNotice.get()).toEqual({ kind: 'error', code: 'amo_access_denied' });
  });

  test("Android's dismiss is not a failure: the status decides", async () => {
    const { backend, queryClient, wrapper } = setup();
    openAuthSession.mockImplementation(async () => {
      backend.status = connected;
      return { type: 'dismiss' } as WebBrowser.WebBrowserAuthSessionResult;
    });
    const { result } = await renderHook(
      () => ({ connect: useAmoCrmConnect({ mode: 'auth-session' }), status: useAmoCrmStatus() }),
      { wrapper },
    );
    await waitFor(() => expect(result.current.status.data).toBeDefined());
    const statusCallsBefore = backend.count('GET', '/integrations/amo-crm/status');

    await act(() => result.current.connect.connect());

    expect(connectNotice.get()).toBeNull();
    expect(backend.count('GET', '/integrations/amo-crm/status')).toBeGreaterThan(statusCallsBefore);
    await waitFor(() => expect(queryClient.getQueryData(amoCrmKeys.status())).toEqual(connected));
  });

  test('cancel in the system browser says so', async () => {
    const { wrapper } = setup();
    openAuthSession.mockResolvedValue({ type: 'cancel' } as WebBrowser.WebBrowserAuthSessionResult);
    const { result } = await renderHook(() => useAmoCrmConnect({ mode: 'auth-session' }), { wrapper });
    await act(() => result.current.connect());
    expect(connectNotice.get()).toEqual({ kind: 'cancelled' });
  });

  test('web: asks for a web flow and sends the window to it', async () => {
    const { backend, wrapper } = setup();
    const navigate = jest.fn();
    const { result } = await renderHook(() => useAmoCrmConnect({ mode: 'web-redirect', navigate }), { wrapper });
    await act(() => result.current.connect());
    expect(backend.requests.find((r) => r.path.endsWith('/authorize'))?.body).toEqual({ client: 'web' });
    expect(navigate).toHaveBeenCalledWith(expect.stringContaining('/oauth/start?flow=flow-web-'));
    expect(openAuthSession).not.toHaveBeenCalled();
  });

  test('a failed authorize call opens nothing and exposes the error', async () => {
    const { backend, wrapper } = setup();
    backend.failOnce('POST', '/integrations/amo-crm/authorize', 400, 'return_target_unavailable');
    const navigate = jest.fn();
    const { result } = await renderHook(() => useAmoCrmConnect({ mode: 'web-redirect', navigate }), { wrapper });
    await act(() => result.current.connect());
    expect(navigate).not.toHaveBeenCalled();
    await waitFor(() => expect(result.current.authorizeError).toMatchObject({ code: 'return_target_unavailable' }));
  });

  test('WebView variant: shows the URL, then handles the intercepted return', async () => {
    const { wrapper } = setup();
    const { result } = await renderHook(() => useAmoCrmConnect({ mode: 'webview' }), { wrapper });
    await act(() => result.current.connect());
    expect(result.current.webView.url).toContain('/oauth/start?flow=flow-native-');
    await act(() => result.current.webView.onReturn('foryouapp://amo-crm/callback?status=connected'));
    expect(result.current.webView.url).toBeNull();
    expect(connectNotice.get()).toEqual({ kind: 'connected' });
  });

  test('native: the ticket that reaches both the auth-session promise and the deep link is redeemed once', async () => {
    const { backend, queryClient, wrapper } = setup();
    const returnUrl = 'foryouapp://amo-crm/callback?status=pending&ticket=Yq3vW0m9c2rN7eTq4bXo8kZ1s5fH6jLpA-uD_gE0iKw';
    backend.issueTicket('Yq3vW0m9c2rN7eTq4bXo8kZ1s5fH6jLpA-uD_gE0iKw');
    const { result } = await renderHook(
      () => ({ connect: useAmoCrmConnect({ mode: 'auth-session' }), deepLink: useAmoCrmReturn() }),
      { wrapper },
    );
    // Android: the router gets the deep link, and while the redemption it started is still in
    // flight, the auth-session promise resolves with the same URL.
    const release = backend.hold('POST', '/integrations/amo-crm/complete');
    let routeDelivery: Promise<void> = Promise.resolve();
    openAuthSession.mockImplementation(async () => {
      routeDelivery = result.current.deepLink.handle(parseReturnUrl(returnUrl));
      setTimeout(release, 20);
      return { type: 'success', url: returnUrl };
    });

    await act(() => result.current.connect.connect());
    await act(() => routeDelivery);

    expect(backend.count('POST', '/integrations/amo-crm/complete')).toBe(1);
    expect(queryClient.getQueryData(amoCrmKeys.status())).toEqual(connected);
    expect(connectNotice.get()).toEqual({ kind: 'connected' });
  });
});
