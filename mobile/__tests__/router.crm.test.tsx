import { fireEvent, screen, waitFor } from '@testing-library/react-native';
import { extractExpoPathFromURL } from 'expo-router/build/fork/extractPathFromURL';

import {
  broker,
  connected,
  installFakeBackend,
  notConnected,
} from '@/test-support/fakeBackend';
import { sessionExpiry } from '@/auth/sessionExpiry';
import { connectedBroker, renderApp, signedInAs } from '@/test-support/router';

// The app's query client minus retry back-off and GC timers, so error states show at once.
jest.mock('@/api/queryClient', () => jest.requireActual('@/test-support/queryClientWithoutRetries'));

describe('sign-in and the CRM tab', () => {
  afterEach(() => sessionExpiry.clear());

  test('signed out: the app asks to sign in, and signing in opens the tabs', async () => {
    const backend = installFakeBackend();
    const app = await renderApp('/crm');
    expect(await screen.findByTestId('sign-in-screen')).toBeOnTheScreen();
    expect(app.getPathname()).toBe('/sign-in');
    // Never signed in: nothing has ended.
    expect(screen.queryByTestId('sign-in-session-ended')).toBeNull();

    await fireEvent.changeText(screen.getByTestId('sign-in-email'), broker.email);
    await fireEvent.changeText(screen.getByTestId('sign-in-password'), 'wrong-password');
    await fireEvent.press(screen.getByTestId('sign-in-submit'));
    expect(await screen.findByTestId('sign-in-error')).toHaveTextContent('Невірна електронна пошта або пароль.');

    await fireEvent.changeText(screen.getByTestId('sign-in-password'), backend.password);
    await fireEvent.press(screen.getByTestId('sign-in-submit'));
    expect(await screen.findByTestId('home-screen')).toBeOnTheScreen();
  });

  test('not connected: the CRM tab shows the connect screen', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    await renderApp('/crm');
    expect(await screen.findByTestId('crm-not-connected')).toBeOnTheScreen();
    expect(screen.getByText('Підключіть amoCRM')).toBeOnTheScreen();
    expect(backend.count('GET', '/crm/leads')).toBe(0);
  });

  test('loading: a spinner until the status arrives', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    const release = backend.hold('GET', '/integrations/amo-crm/status');
    await renderApp('/crm');
    expect(await screen.findByTestId('amo-status-loading')).toBeOnTheScreen();
    release();
    expect(await screen.findByTestId('crm-not-connected')).toBeOnTheScreen();
  });

  test('status error: a message and a retry that works', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    backend.failOnce('GET', '/integrations/amo-crm/status', 500, 'internal_error');
    await renderApp('/crm');
    expect(await screen.findByTestId('amo-status-error')).toHaveTextContent(/Не вдалося перевірити підключення/);
    await fireEvent.press(screen.getByTestId('amo-status-error-retry'));
    expect(await screen.findByTestId('crm-not-connected')).toBeOnTheScreen();
  });

  test('connected: the badge names the broker and their leads are listed', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm');
    await fireEvent.press(await screen.findByTestId('amo-status-badge'));
    expect(await screen.findByTestId('amo-connected-as')).toHaveTextContent('Олена Коваль · reforyou.amocrm.ru');
    expect(await screen.findByText('Квартира на Подолі')).toBeOnTheScreen();
    expect(screen.getByText('Будинок в Ірпені')).toBeOnTheScreen();
    expect(screen.getByTestId('lead-101-stage')).toHaveTextContent('Успішно реалізовано');
    expect(screen.queryByTestId('lead-102-stage')).toBeNull();
    expect(backend.requests.find((r) => r.path === '/crm/leads')?.query).toMatchObject({ mine: 'true' });
  });

  test('connected but the leads fail: an error with retry, the badge stays', async () => {
    await connectedBroker((backend) => backend.failOnce('GET', '/crm/leads', 504, 'amo_upstream_timeout'));
    await renderApp('/crm');
    expect(await screen.findByTestId('leads-error')).toBeOnTheScreen();
    expect(screen.getByTestId('amo-status-badge')).toBeOnTheScreen();
    await fireEvent.press(screen.getByTestId('leads-error-retry'));
    expect(await screen.findByText('Квартира на Подолі')).toBeOnTheScreen();
  });

  test('reauth_required: a reconnect prompt that says why', async () => {
    const backend = installFakeBackend();
    backend.status = { ...connected, connected: false, state: 'reauth_required', reason: 'integration_disabled' };
    await signedInAs(backend);
    await renderApp('/crm');
    expect(await screen.findByTestId('crm-reauth')).toBeOnTheScreen();
    expect(screen.getByText('Потрібно підключитися знову')).toBeOnTheScreen();
    expect(screen.getByTestId('amo-auth-message')).toHaveTextContent(
      'Адміністратор вимкнув інтеграцію ForYou в amoCRM.',
    );
    expect(screen.getByRole('button', { name: 'Підключити знову' })).toBeOnTheScreen();
  });

  test('a lead list answer of amo_reauth_required makes the tab re-check the status', async () => {
    const backend = await connectedBroker((fake) =>
      fake.replyOnce('GET', '/crm/leads', {
        status: 409,
        body: { success: false, error: { code: 'amo_reauth_required', message: 'x', requestId: 'r' } },
      }),
    );
    const release = backend.hold('GET', '/crm/leads');
    await renderApp('/crm');
    await screen.findByTestId('amo-status-badge');
    // amoCRM revoked the tokens between the status check and the lead list.
    backend.status = { ...connected, connected: false, state: 'reauth_required', reason: 'refresh_revoked' };
    release();
    expect(await screen.findByTestId('crm-reauth')).toBeOnTheScreen();
    expect(screen.getByTestId('amo-auth-message')).toHaveTextContent(/відкликав доступ/);
  });

  test('roles without CRM access get no tab and a clear refusal', async () => {
    const backend = installFakeBackend();
    backend.user = { ...broker, role: 'INVESTOR' };
    await signedInAs(backend);
    await renderApp('/crm');
    expect(await screen.findByTestId('crm-forbidden')).toHaveTextContent(/CRM недоступна/);
    expect(screen.queryByTestId('tab-crm')).toBeNull();
    expect(backend.count('GET', '/integrations/amo-crm/status')).toBe(0);
  });

  test('a saved token the backend rejects signs the user out and says the session ended', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    backend.token = 'a-newer-token';
    const app = await renderApp('/crm');
    expect(await screen.findByTestId('sign-in-screen')).toBeOnTheScreen();
    await waitFor(() => expect(app.getPathname()).toBe('/sign-in'));
    expect(screen.getByTestId('sign-in-session-ended')).toHaveTextContent('Ваш сеанс завершився. Увійдіть знову.');

    await fireEvent.changeText(screen.getByTestId('sign-in-email'), broker.email);
    await fireEvent.changeText(screen.getByTestId('sign-in-password'), backend.password);
    await fireEvent.press(screen.getByTestId('sign-in-submit'));
    expect(await screen.findByTestId('home-screen')).toBeOnTheScreen();
    expect(sessionExpiry.hasEnded()).toBe(false);
  });

  test('a token refused while signed in (401 on a CRM call) leads to sign-in with the reason', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    await renderApp('/crm');
    await screen.findByTestId('crm-not-connected');
    backend.token = 'a-newer-token'; // e.g. the JWT expired, or the secret rotated
    await fireEvent.press(screen.getByTestId('amo-connect'));
    expect(await screen.findByTestId('sign-in-session-ended')).toHaveTextContent(/сеанс завершився/);
  });

  test('«Скасувати» on the connect screen goes back to the tab the broker came from', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    const app = await renderApp('/settings');
    await fireEvent.press(await screen.findByTestId('tab-crm'));
    await screen.findByTestId('crm-not-connected');
    await fireEvent.press(screen.getByRole('button', { name: 'Скасувати' }));
    await waitFor(() => expect(app.getPathname()).toBe('/settings'));
  });

  test('the status is requested with our bearer token', async () => {
    const backend = installFakeBackend();
    backend.status = notConnected;
    await signedInAs(backend);
    await renderApp('/crm');
    await screen.findByTestId('crm-not-connected');
    const statusCall = backend.requests.find((r) => r.path === '/integrations/amo-crm/status');
    expect(statusCall?.authorization).toBe(`Bearer ${backend.token}`);
  });
});

describe('deep link mapping', () => {
  test('the native return URL resolves to app/amo-crm/callback.tsx', () => {
    expect(extractExpoPathFromURL([], 'foryouapp://amo-crm/callback?status=connected')).toBe(
      'amo-crm/callback?status=connected',
    );
  });
});
