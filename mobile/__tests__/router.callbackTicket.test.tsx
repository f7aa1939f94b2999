import { screen } from '@testing-library/react-native';
import * as SecureStore from 'expo-secure-store';

import { AMO_COMPLETE_ERROR_CODES, AMO_RETURN_ERROR_CODES } from '@/api/types';
import { connectErrorMessage } from '@/components/amo-crm/ConnectNoticeBanner';
import { dictionaries, type Language, LANGUAGES } from '@/i18n';
import { connected, installFakeBackend } from '@/test-support/fakeBackend';
import { renderApp, signedInAs } from '@/test-support/router';

// The app's query client minus retry back-off and GC timers, so error states show at once.
jest.mock('@/api/queryClient', () => jest.requireActual('@/test-support/queryClientWithoutRetries'));

/** 43 characters of urlsafe base64, like the backend's tickets. */
const TICKET = 'Yq3vW0m9c2rN7eTq4bXo8kZ1s5fH6jLpA-uD_gE0iKw';
const TICKET_URL = `/amo-crm/callback?status=pending&ticket=${TICKET}`;
const COLLEAGUE_ID = '0f6f2c7e-6c55-4f1a-9a2d-3e0b8c1d9a77';

async function signedInBroker(language?: Language) {
  const backend = installFakeBackend();
  await signedInAs(backend);
  if (language) await SecureStore.setItemAsync('foryou.language', language);
  return backend;
}

function completions(backend: ReturnType<typeof installFakeBackend>) {
  return backend.requests.filter((r) => r.method === 'POST' && r.path === '/integrations/amo-crm/complete');
}

describe('/amo-crm/callback?status=pending&ticket=…', () => {
  test('the ticket is redeemed as the signed-in user and the CRM tab shows the connection', async () => {
    const backend = await signedInBroker();
    backend.issueTicket(TICKET);
    const app = await renderApp(TICKET_URL);

    expect(await screen.findByTestId('amo-status-badge')).toBeOnTheScreen();
    expect(app.getPathname()).toBe('/crm');
    expect(screen.getByTestId('amo-connect-connected')).toHaveTextContent(/^amoCRM підключено\./);
    expect(completions(backend).map((r) => [r.body, r.authorization])).toEqual([
      [{ ticket: TICKET }, `Bearer ${backend.token}`],
    ]);
    expect(backend.count('POST', '/integrations/amo-crm/exchange-code')).toBe(0);
  });

  test('the same ticket delivered twice is redeemed once', async () => {
    const backend = await signedInBroker();
    backend.issueTicket(TICKET);
    await renderApp(TICKET_URL);
    expect(await screen.findByTestId('amo-status-badge')).toBeOnTheScreen();

    await renderApp(TICKET_URL);
    expect(await screen.findByTestId('amo-status-badge')).toBeOnTheScreen();
    expect(screen.queryByTestId('amo-connect-error')).toBeNull();
    expect(completions(backend)).toHaveLength(1);
  });

  test('a ticket already spent on this very connection (after a restart) ends connected, not in an error', async () => {
    const backend = await signedInBroker();
    backend.status = connected; // redeemed by an earlier run of the app; this one never saw it
    await renderApp(TICKET_URL);

    expect(await screen.findByTestId('amo-status-badge')).toBeOnTheScreen();
    expect(screen.getByTestId('amo-connect-connected')).toBeOnTheScreen();
    expect(screen.queryByTestId('amo-connect-error')).toBeNull();
    expect(completions(backend)).toHaveLength(1);
  });

  test('an invalid ticket with no connection behind it says so', async () => {
    const backend = await signedInBroker();
    await renderApp(TICKET_URL);

    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(
      'Це підключення вже завершено або посилання недійсне. Натисніть «Підключити», щоб почати знову.',
    );
    expect(screen.getByTestId('crm-not-connected')).toBeOnTheScreen();
    expect(backend.status.state).toBe('not_connected');
  });

  test.each<[Language, string]>([
    ['en', 'This connection link was started from another ForYou account. Start connecting from your own app.'],
    [
      'uk',
      'Це посилання для підключення було створено з іншого облікового запису ForYou. Почніть підключення у своєму застосунку.',
    ],
    [
      'ru',
      'Эта ссылка для подключения была создана из другого аккаунта ForYou. Начните подключение в своём приложении.',
    ],
  ])('a flow started by another ForYou user is refused in plain words (%s)', async (language, message) => {
    const backend = await signedInBroker(language);
    backend.issueTicket(TICKET, { ownerId: COLLEAGUE_ID });
    await renderApp(TICKET_URL);

    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(message);
    expect(screen.getByTestId('crm-not-connected')).toBeOnTheScreen();
    expect(backend.status.state).toBe('not_connected');
  });

  test("a broker already connected who opens a colleague's link sees the refusal and stays connected", async () => {
    const backend = await signedInBroker('en');
    backend.status = connected;
    backend.issueTicket(TICKET, { ownerId: COLLEAGUE_ID });
    await renderApp(TICKET_URL);

    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(
      'This connection link was started from another ForYou account. Start connecting from your own app.',
    );
    expect(screen.getByTestId('crm-connected')).toBeOnTheScreen();
    expect(screen.getByTestId('amo-status-badge')).toBeOnTheScreen();
    expect(screen.queryByTestId('amo-connect-connected')).toBeNull();
    expect(backend.status).toBe(connected);
  });

  test('an expired ticket asks to start again', async () => {
    const backend = await signedInBroker('en');
    backend.issueTicket(TICKET, { expired: true });
    await renderApp(TICKET_URL);

    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(
      'The confirmation from amoCRM has expired. Tap “Connect” to start again.',
    );
    expect(screen.getByTestId('crm-not-connected')).toBeOnTheScreen();
  });

  test('an amoCRM user connected to another ForYou account points to the admin', async () => {
    const backend = await signedInBroker('en');
    backend.failOnce('POST', '/integrations/amo-crm/complete', 409, 'amo_user_already_linked');
    await renderApp(TICKET_URL);

    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(
      'This amoCRM user is already connected to another ForYou account. Ask your agency’s admin.',
    );
    expect(screen.getByTestId('crm-not-connected')).toBeOnTheScreen();
  });

  test('a throttled redemption asks to wait a minute', async () => {
    const backend = await signedInBroker();
    backend.failOnce('POST', '/integrations/amo-crm/complete', 429, 'too_many_requests');
    await renderApp(TICKET_URL);

    expect(await screen.findByTestId('amo-connect-error')).toHaveTextContent(/Зачекайте хвилину/);
  });

  test('every redemption error has its own message in every language', () => {
    for (const language of LANGUAGES) {
      const t = dictionaries[language];
      const returnMessages = AMO_RETURN_ERROR_CODES.map((code) => connectErrorMessage(t, code));
      const messages = AMO_COMPLETE_ERROR_CODES.map((code) => connectErrorMessage(t, code));
      expect(new Set([...messages, ...returnMessages]).size).toBe(messages.length + returnMessages.length);
      expect(messages).not.toContain(t.amo.errors.unknown);
    }
  });

  describe('in a browser', () => {
    const realWindow = { history: window.history, location: window.location };
    let address: string;
    const replaceState = jest.fn((_state: unknown, _unused: string, url?: string | URL | null) => {
      address = String(url);
    });

    beforeEach(() => {
      address = `http://app.test${TICKET_URL}`;
      replaceState.mockClear();
      Object.assign(window, {
        history: { state: { key: 'router-state' }, replaceState },
        location: {
          get pathname() {
            return new URL(address).pathname;
          },
          get search() {
            return new URL(address).search;
          },
        },
      });
    });

    afterEach(() => {
      Object.assign(window, realWindow);
    });

    test('the ticket leaves the address bar and the history entry once read', async () => {
      const backend = await signedInBroker();
      backend.issueTicket(TICKET);
      await renderApp(TICKET_URL);

      expect(await screen.findByTestId('amo-status-badge')).toBeOnTheScreen();
      expect(replaceState).toHaveBeenCalledWith({ key: 'router-state' }, '', '/amo-crm/callback');
      expect(address).not.toContain(TICKET);
      expect(completions(backend).map((r) => r.body)).toEqual([{ ticket: TICKET }]);
    });
  });
});
