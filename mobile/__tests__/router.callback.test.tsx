import { fireEvent, screen, waitFor } from '@testing-library/react-native';
import * as WebBrowser from 'expo-web-browser';

import { AMO_RETURN_ERROR_CODES } from '@/api/types';
import { connectErrorMessage } from '@/components/amo-crm/ConnectNoticeBanner';
import { dictionaries, LANGUAGES } from '@/i18n';
import { installFakeBackend } from '@/test-support/fakeBackend';
import { connectedBroker, renderApp, signedInAs } from '@/test-support/router';

// The system browser belongs to the operating system; here it returns without a redirect.
jest.mock('expo-web-browser', () => ({
  openAuthSessionAsync: jest.fn(async () => ({ type: 'dismiss' })),
}));

// The app's query client minus retry back-off and GC timers, so error states show at once.
jest.mock('@/api/queryClient', () => jest.requireActual('@/test-support/queryClientWithoutRetries'));

const EXCHANGE_URL =
  '/amo-crm/callback?code=def50200abc&state=flow-state-1&referer=reforyou.amocrm.ru&platform=1';

describe('/amo-crm/callback', () => {
  test('status=connected: back on the CRM tab with the badge and the leads', async () => {
    const backend = await connectedBroker();
    const app = await renderApp('/amo-crm/callback?status=connected');
    expect(await screen.findByTestId('amo-connect-connected')).toHaveTextContent(/^amoCRM підключено\./);
    expect(app.getPathname()).toBe('/crm');
    // Who is connected: behind the top bar's «amoCRM» pill.
    await fireEvent.press(screen.getByTestId('amo-status-badge'));
    expect(screen.getByTestId('amo-connected-as')).toHaveTextContent(/Олена Коваль/);
    expect(await screen.findByText('Квартира на Подолі')).toBeOnTheScreen();
    expect(backend.count('POST', '/integrations/amo-crm/exchange-code')).toBe(0);
  });

  test('"connected" is shown once: closing it hides it, and the disconnect question replaces it', async () => {
    await connectedBroker();
    await renderApp('/amo-crm/callback?status=connected');
    await screen.findByTestId('amo-connect-connected');
    await fireEvent.press(screen.getByRole('button', { name: 'Закрити повідомлення' }));
    expect(screen.queryByTestId('amo-connect-connected')).toBeNull();
  });

  test('disconnecting: no "connected" inside the question, a confirmation afterwards', async () => {
    const backend = await connectedBroker();
    await renderApp('/amo-crm/callback?status=connected');
    await screen.findByTestId('amo-connect-connected');

    await fireEvent.press(screen.getByTestId('amo-status-badge'));
    await fireEvent.press(screen.getByTestId('amo-disconnect'));
    expect(screen.getByTestId('amo-disconnect-confirmation')).toBeOnTheScreen();
    expect(screen.queryByTestId('amo-connect-connected')).toBeNull();

    backend.status = { ...backend.status, connected: false, state: 'not_connected' };
    await fireEvent.press(screen.getByTestId('amo-disconnect-confirm'));
    expect(await screen.findByTestId('crm-not-connected')).toBeOnTheScreen();
    expect(screen.getByTestId('amo-connect-disconnected')).toHaveTextContent(/^amoCRM відключено\./);
  });

  test('denied: a clear message, and "Підключити" starts a new flow', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    const app = await renderApp('/amo-crm/callback?status=error&code=amo_access_denied');
    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(/Ви відмовили в доступі/);
    expect(app.getPathname()).toBe('/crm');
    const connect = screen.getByTestId('amo-connect');
    expect(connect).toBeEnabled();
    await fireEvent.press(connect);
    await waitFor(() => expect(backend.count('POST', '/integrations/amo-crm/authorize')).toBe(1));
    await waitFor(() =>
      expect(WebBrowser.openAuthSessionAsync).toHaveBeenCalledWith(
        expect.stringContaining('/oauth/start?flow='),
        'foryouapp://amo-crm/callback',
      ),
    );
    // A new attempt clears the old message.
    await waitFor(() => expect(screen.queryByTestId('amo-connect-error')).toBeNull());
  });

  test('expired flow: says time ran out', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    await renderApp('/amo-crm/callback?status=error&code=amo_state_expired');
    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(
      'Час на підключення минув. Натисніть «Підключити», щоб почати знову.',
    );
  });

  test('an error code the app does not know still gets a message', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    await renderApp('/amo-crm/callback?status=error&code=something_new');
    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(
      'Не вдалося підключити amoCRM. Спробуйте ще раз.',
    );
  });

  test('too many connect attempts: the broker is told to wait a minute', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    await renderApp('/amo-crm/callback?status=error&code=amo_access_denied');
    backend.failOnce('POST', '/integrations/amo-crm/authorize', 429, 'too_many_requests');
    await fireEvent.press(await screen.findByTestId('amo-connect'));
    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(/Зачекайте хвилину/);
    expect(WebBrowser.openAuthSessionAsync).not.toHaveBeenCalled();
  });

  test('every error code has its own message in every language', () => {
    for (const language of LANGUAGES) {
      const t = dictionaries[language];
      const messages = AMO_RETURN_ERROR_CODES.map((code) => connectErrorMessage(t, code));
      expect(new Set(messages).size).toBe(AMO_RETURN_ERROR_CODES.length);
      expect(messages).not.toContain(t.amo.errors.unknown);
    }
  });

  test('exchange-code mode: code, state and referer go to the backend', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    const app = await renderApp(EXCHANGE_URL);
    expect(await screen.findByTestId('amo-status-badge')).toBeOnTheScreen();
    expect(app.getPathname()).toBe('/crm');
    const exchange = backend.requests.find((r) => r.path === '/integrations/amo-crm/exchange-code');
    expect(exchange?.body).toEqual({
      code: 'def50200abc',
      state: 'flow-state-1',
      referer: 'reforyou.amocrm.ru',
      platform: '1',
    });
  });

  test('duplicate delivery of the same return exchanges the code once', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    await renderApp(EXCHANGE_URL);
    expect(await screen.findByTestId('amo-status-badge')).toBeOnTheScreen();

    // The same deep link arrives again (Android: router and auth-session promise both get it).
    await renderApp(EXCHANGE_URL);
    expect(await screen.findByTestId('amo-status-badge')).toBeOnTheScreen();
    expect(screen.queryByTestId('amo-connect-error')).toBeNull();
    expect(backend.count('POST', '/integrations/amo-crm/exchange-code')).toBe(1);
  });

  test('duplicate status=connected delivery ends in the same state', async () => {
    await connectedBroker();
    await renderApp('/amo-crm/callback?status=connected');
    await screen.findByTestId('amo-status-badge');
    await renderApp('/amo-crm/callback?status=connected');
    expect(await screen.findByTestId('amo-status-badge')).toBeOnTheScreen();
    expect(screen.getAllByTestId('amo-connect-connected')).toHaveLength(1);
  });

  test('a rejected exchange shows the backend’s reason', async () => {
    const backend = installFakeBackend();
    backend.failOnce('POST', '/integrations/amo-crm/exchange-code', 400, 'amo_code_invalid');
    await signedInAs(backend);
    await renderApp(EXCHANGE_URL);
    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(/не прийняв код/);
    expect(screen.getByTestId('crm-not-connected')).toBeOnTheScreen();
  });

  test('signed out on return: asks to sign in instead of failing silently', async () => {
    installFakeBackend();
    await renderApp('/amo-crm/callback?status=connected');
    expect(await screen.findByTestId('amo-callback-signed-out')).toBeOnTheScreen();
  });
});
