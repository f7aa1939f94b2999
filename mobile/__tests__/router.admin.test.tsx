import { act, fireEvent, screen, waitFor, within } from '@testing-library/react-native';
import * as Clipboard from 'expo-clipboard';
import * as SecureStore from 'expo-secure-store';
import * as WebBrowser from 'expo-web-browser';

import { AGENCY_ERROR_CODES } from '@/api/types';
import { dictionaries, LANGUAGES } from '@/i18n';
import {
  activeAgency,
  adminUser,
  GENERATED_PASSWORD,
  manyBrokers,
  sampleBrokers,
  VALID_AGENCY_TOKEN,
} from '@/test-support/fakeAdmin';
import { connected, type FakeBackend, installFakeBackend, notConnected } from '@/test-support/fakeBackend';
import { renderApp, signedInAs } from '@/test-support/router';

// The system browser belongs to the operating system; here it returns without a redirect.
jest.mock('expo-web-browser', () => ({
  openAuthSessionAsync: jest.fn(async () => ({ type: 'dismiss' })),
}));
jest.mock('expo-clipboard', () => ({ setStringAsync: jest.fn(async () => true) }));

// The app's query client minus retry back-off and GC timers, so error states show at once.
jest.mock('@/api/queryClient', () => jest.requireActual('@/test-support/queryClientWithoutRetries'));

const [olena, petro] = sampleBrokers as [(typeof sampleBrokers)[0], (typeof sampleBrokers)[0]];

async function signedInAdmin(setup: (backend: FakeBackend) => void = () => undefined): Promise<FakeBackend> {
  const backend = installFakeBackend();
  backend.user = adminUser;
  backend.status = connected;
  setup(backend);
  await signedInAs(backend);
  return backend;
}

function adminRequests(backend: FakeBackend, path: string) {
  return backend.requests.filter((request) => request.path === path);
}

describe('who sees the admin console', () => {
  test('an admin has the Адмін tab and lands on the brokers', async () => {
    await signedInAdmin();
    await renderApp('/');
    await screen.findByTestId('home-screen');
    await fireEvent.press(screen.getByTestId('tab-admin'));
    expect(await screen.findByTestId('admin-brokers')).toBeOnTheScreen();
    expect(screen.getByRole('button', { name: 'Брокери' })).toHaveProp('accessibilityState', { selected: true });
  });

  test('a broker has no such tab, and a direct visit says it is not available without asking the API', async () => {
    const backend = installFakeBackend();
    await signedInAs(backend);
    await renderApp('/');
    await screen.findByTestId('home-screen');
    expect(screen.queryByTestId('tab-admin')).toBeNull();

    await renderApp('/admin');
    expect(await screen.findByTestId('admin-forbidden')).toHaveTextContent(/Розділ недоступний/);
    await renderApp(`/admin/broker/${olena.userId}`);
    expect(await screen.findByTestId('admin-forbidden')).toBeOnTheScreen();
    expect(backend.requests.filter((request) => request.path.startsWith('/admin/'))).toEqual([]);
  });
});

describe('the brokers list', () => {
  test('every broker with a coloured state badge in words, the amoCRM user, refresh and error', async () => {
    await signedInAdmin();
    await renderApp('/admin');
    expect(await screen.findByTestId('brokers-count')).toHaveTextContent('3 брокери');
    expect(screen.getByTestId('broker-olena@foryou.test-state')).toHaveTextContent('Підключено');
    expect(screen.getByTestId('broker-olena@foryou.test-amo-user')).toHaveTextContent('amoCRM: Олена Коваль (amoCRM)');
    const petroRow = screen.getByTestId('broker-petro@foryou.test');
    expect(within(petroRow).getByTestId('broker-petro@foryou.test-state')).toHaveTextContent('Потрібне перепідключення');
    // No catalogue name yet: the amoCRM user's id.
    expect(petroRow).toHaveTextContent(/amoCRM: користувач #7002/);
    expect(petroRow).toHaveTextContent(/amoCRM відкликав доступ/);
    expect(petroRow).toHaveTextContent(/Помилка «refresh_revoked»/);
    expect(screen.getByTestId('broker-ivan@foryou.test-state')).toHaveTextContent('Не підключався');
    expect(screen.getByRole('button', { name: 'Відкрити: Олена Коваль, Підключено' })).toBeOnTheScreen();
    // When each broker last used the app; never for one who never connected.
    expect(screen.getByTestId('broker-olena@foryou.test')).toHaveTextContent(/У застосунку 30 лист/);
    expect(petroRow).not.toHaveTextContent(/У застосунку/);
    expect(screen.getByTestId('broker-ivan@foryou.test')).not.toHaveTextContent(/У застосунку/);
  });

  test('filter by state and search by name or e-mail go to the API', async () => {
    const backend = await signedInAdmin();
    await renderApp('/admin');
    await screen.findByTestId('broker-ivan@foryou.test');
    await fireEvent.press(screen.getByTestId('brokers-state-reauth_required'));
    expect(await screen.findByTestId('broker-petro@foryou.test')).toBeOnTheScreen();
    expect(screen.queryByTestId('broker-ivan@foryou.test')).toBeNull();
    expect(adminRequests(backend, '/admin/brokers').at(-1)?.query).toMatchObject({ state: 'reauth_required' });

    await fireEvent.press(screen.getByTestId('brokers-state-never_connected'));
    expect(await screen.findByTestId('broker-ivan@foryou.test')).toBeOnTheScreen();
    await fireEvent.press(screen.getByTestId('brokers-state-all'));
    await fireEvent.changeText(screen.getByTestId('brokers-search'), 'олена');
    await waitFor(() => expect(adminRequests(backend, '/admin/brokers').at(-1)?.query.q).toBe('олена'));
    expect(await screen.findByTestId('broker-olena@foryou.test')).toBeOnTheScreen();
    expect(screen.queryByTestId('broker-ivan@foryou.test')).toBeNull();
    expect(adminRequests(backend, '/admin/brokers').at(-1)?.query).toEqual({ page: '1', limit: '25', q: 'олена' });

    await fireEvent.changeText(screen.getByTestId('brokers-search'), 'nobody');
    expect(await screen.findByTestId('brokers-empty')).toHaveTextContent(/^Нікого не знайдено\. Змініть фільтр/);
  });

  test('infinite scroll loads the next page at the end', async () => {
    const backend = await signedInAdmin((fake) => {
      fake.admin.brokers = manyBrokers(30);
    });
    await renderApp('/admin');
    expect(await screen.findByTestId('brokers-count')).toHaveTextContent('30 брокерів');
    expect(screen.getByTestId('brokers-list').props.data).toHaveLength(25);
    await act(async () => {
      screen.getByTestId('brokers-list').props.onEndReached();
    });
    await waitFor(() => expect(screen.getByTestId('brokers-list').props.data).toHaveLength(30));
    expect(adminRequests(backend, '/admin/brokers').map((request) => request.query.page)).toEqual(['1', '2']);
  });
});

describe("a broker's detail", () => {
  test('the timeline, and unlinking behind a question that says the amoCRM user becomes free', async () => {
    const backend = await signedInAdmin();
    const app = await renderApp('/admin');
    await fireEvent.press(await screen.findByTestId('broker-olena@foryou.test'));
    expect(await screen.findByTestId('admin-broker-screen')).toBeOnTheScreen();
    expect(app.getPathname()).toBe(`/admin/broker/${olena.userId}`);
    expect(screen.getByTestId('admin-broker-state')).toHaveTextContent('Підключено');
    expect(screen.getByTestId('admin-broker-amo-user')).toHaveTextContent('Олена Коваль (amoCRM)');
    expect(screen.getByTestId('admin-broker-last-active')).toHaveTextContent(/30 лист/);
    expect(await screen.findByTestId('admin-event-connected')).toHaveTextContent(/^Підключився до amoCRM/);
    expect(screen.getByTestId('admin-event-refresh_failed')).toHaveTextContent(/причина: amoCRM відкликав доступ/);

    await fireEvent.press(screen.getByRole('button', { name: 'Від’єднати' }));
    const dialog = screen.getByTestId('admin-unlink-dialog');
    expect(dialog).toHaveTextContent(/Від’єднати Олена Коваль від amoCRM\?/);
    expect(dialog).toHaveTextContent(/користувач amoCRM звільниться/);
    // Cancel changes nothing.
    await fireEvent.press(screen.getByTestId('admin-unlink-dialog-cancel'));
    expect(backend.count('POST', `/admin/brokers/${olena.userId}/unlink`)).toBe(0);

    await fireEvent.press(screen.getByTestId('admin-unlink'));
    await fireEvent.press(screen.getByTestId('admin-unlink-dialog-confirm'));
    expect(await screen.findByTestId('admin-broker-done')).toHaveTextContent('Брокера від’єднано від amoCRM.');
    expect(backend.count('POST', `/admin/brokers/${olena.userId}/unlink`)).toBe(1);
    await waitFor(() => expect(screen.getByTestId('admin-broker-state')).toHaveTextContent('Від’єднано'));
    expect(await screen.findByTestId('admin-event-unlinked')).toHaveTextContent(/^Від’єднано адміністратором/);
    // Nothing left to end: the action goes away.
    expect(screen.queryByTestId('admin-unlink')).toBeNull();

    await fireEvent.press(screen.getByTestId('admin-back'));
    await waitFor(() => expect(screen.getByTestId('broker-olena@foryou.test-state')).toHaveTextContent('Від’єднано'));
  });

  test('asking to reconnect sends the note, and the request shows on the broker', async () => {
    const backend = await signedInAdmin();
    await renderApp('/admin');
    await fireEvent.press(await screen.findByTestId('broker-petro@foryou.test'));
    await fireEvent.press(await screen.findByRole('button', { name: 'Попросити перепідключитися' }));
    expect(screen.getByTestId('admin-reconnect-form')).toHaveTextContent(/Попросити Петро Шевчук підключитися знову/);
    await fireEvent.changeText(screen.getByLabelText('Примітка для брокера (необов’язково)'), '  Змінилися ваші права  ');
    await fireEvent.press(screen.getByTestId('admin-reconnect-send'));
    expect(await screen.findByTestId('admin-broker-done')).toHaveTextContent(/Прохання надіслано/);
    const sent = backend.requests.find((request) => request.path === `/admin/brokers/${petro.userId}/request-reconnect`);
    expect(sent?.body).toEqual({ note: 'Змінилися ваші права' });
    expect(await screen.findByTestId('admin-broker-reconnect-pending')).toHaveTextContent(/Примітка: «Змінилися ваші права»/);
    expect(await screen.findByTestId('admin-event-reconnect_requested')).toBeOnTheScreen();
  });

  test('a request without a note sends an empty body; a refusal is explained', async () => {
    const backend = await signedInAdmin((fake) =>
      fake.failOnce('POST', `/admin/brokers/${petro.userId}/request-reconnect`, 409, 'not_a_crm_user'),
    );
    await renderApp(`/admin/broker/${petro.userId}`);
    await fireEvent.press(await screen.findByTestId('admin-request-reconnect'));
    await fireEvent.press(screen.getByTestId('admin-reconnect-send'));
    expect(await screen.findByTestId('admin-reconnect-error')).toHaveTextContent(/не працює з CRM/);
    await fireEvent.press(screen.getByTestId('admin-reconnect-send'));
    expect(await screen.findByTestId('admin-broker-done')).toBeOnTheScreen();
    expect(adminRequests(backend, `/admin/brokers/${petro.userId}/request-reconnect`).map((r) => r.body)).toEqual([{}, {}]);
  });

  test('a deep link to an unknown broker says so', async () => {
    await signedInAdmin();
    await renderApp('/admin/broker/00000000-0000-4000-8000-000000000000');
    expect(await screen.findByTestId('admin-broker-not-found')).toHaveTextContent(/Такого брокера немає/);
  });
});

describe('the agency connection', () => {
  async function openAgency(setup?: (backend: FakeBackend) => void) {
    const backend = await signedInAdmin(setup);
    await renderApp('/admin');
    await fireEvent.press(await screen.findByTestId('admin-section-agency'));
    await screen.findByTestId('agency-card');
    return backend;
  }

  test('none yet: a token pasted hidden is sent once, cleared, and the card turns active with its last 4', async () => {
    const backend = await openAgency();
    expect(screen.getByTestId('agency-health')).toHaveTextContent('Не налаштоване');
    expect(screen.queryByTestId('agency-banner')).toBeNull();
    const token = screen.getByLabelText('Довгостроковий токен');
    expect(token).toHaveProp('secureTextEntry', true);

    await fireEvent.changeText(screen.getByLabelText('Домен amoCRM'), 'Reforyou.amocrm.ru ');
    await fireEvent.changeText(token, VALID_AGENCY_TOKEN);
    await fireEvent.press(screen.getByTestId('agency-save'));
    expect(await screen.findByTestId('agency-token-saved')).toHaveTextContent(/Токен збережено/);
    await waitFor(() => expect(screen.getByTestId('agency-health')).toHaveTextContent('Активне'));
    expect(screen.getByTestId('agency-last4')).toHaveTextContent('…k9Qz');
    expect(screen.getByLabelText('Довгостроковий токен')).toHaveProp('value', '');
    expect(adminRequests(backend, '/admin/amo-crm/agency-connection').at(-1)?.body).toEqual({
      domain: 'reforyou.amocrm.ru',
      token: VALID_AGENCY_TOKEN,
    });
    // The token appears nowhere on the screen.
    expect(screen.queryByText(new RegExp(VALID_AGENCY_TOKEN.replace(/\./g, '\\.')))).toBeNull();
  });

  test('each refusal has its own words and the token is cleared all the same', async () => {
    const backend = await openAgency();
    await fireEvent.press(screen.getByTestId('agency-save'));
    expect(screen.getByTestId('agency-token-error')).toHaveTextContent('Вкажіть домен і токен.');
    expect(adminRequests(backend, '/admin/amo-crm/agency-connection').filter((r) => r.method === 'POST')).toHaveLength(0);

    await fireEvent.changeText(screen.getByTestId('agency-domain'), 'reforyou.amocrm.ru');
    await fireEvent.changeText(screen.getByTestId('agency-token'), 'not-a-token');
    await fireEvent.press(screen.getByTestId('agency-save'));
    expect(await screen.findByTestId('agency-token-error')).toHaveTextContent(/Токен не прийнято/);
    expect(screen.getByTestId('agency-token')).toHaveProp('value', '');

    for (const [code, words] of [
      ['agency_token_not_admin', /не є адміністратором/],
      ['agency_token_wrong_account', /іншому обліковому запису amoCRM/],
      ['agency_domain_invalid', /адресою облікового запису amoCRM/],
      ['amo_upstream_timeout', /не відповів вчасно/],
      ['something_new', /Не вдалося зберегти/],
    ] as const) {
      backend.failOnce('POST', '/admin/amo-crm/agency-connection', 400, code);
      await fireEvent.changeText(screen.getByTestId('agency-token'), VALID_AGENCY_TOKEN);
      await fireEvent.press(screen.getByTestId('agency-save'));
      await waitFor(() => expect(screen.getByTestId('agency-token-error')).toHaveTextContent(words));
    }
    expect(screen.getByTestId('agency-health')).toHaveTextContent('Не налаштоване');
  });

  test('every agency error code has words in every language', () => {
    for (const language of LANGUAGES) {
      for (const code of AGENCY_ERROR_CODES) {
        expect(dictionaries[language].admin.agency.errors[code]).toMatch(/\S/);
      }
    }
  });

  test('expiring soon: a banner with the date; expired: an urgent one', async () => {
    await openAgency((fake) => {
      fake.admin.agency = { ...activeAgency, health: 'expiring', expiringSoon: true, expiresAt: '2026-12-05T00:00:00Z' };
    });
    expect(screen.getByTestId('agency-health')).toHaveTextContent('Скоро закінчиться');
    expect(screen.getByTestId('agency-banner')).toHaveTextContent(/^Токен агенції діє до 5 грудня 2026 р\. — вставте новий, щоб імена брокерів не зникли\.$/);
    expect(screen.getByTestId('agency-expires')).toHaveTextContent(/2026/);
  });

  test('«Use my connection» when the admin is connected, with the refusal explained; remove asks first', async () => {
    const backend = await openAgency((fake) => {
      fake.admin.agency = { ...activeAgency, health: 'expired' };
    });
    expect(screen.getByTestId('agency-banner')).toHaveTextContent(/Токен агенції закінчився\./);
    await fireEvent.press(screen.getByRole('button', { name: 'Використати моє підключення' }));
    expect(await screen.findByTestId('agency-use-mine-error')).toHaveTextContent(/не є адміністратором/);

    await fireEvent.press(screen.getByTestId('agency-remove'));
    expect(screen.getByTestId('agency-remove-dialog')).toHaveTextContent(/Видалити підключення агенції\?/);
    await fireEvent.press(screen.getByTestId('agency-remove-dialog-confirm'));
    expect(await screen.findByTestId('agency-done')).toHaveTextContent('Підключення агенції видалено.');
    expect(backend.count('DELETE', '/admin/amo-crm/agency-connection')).toBe(1);
    await waitFor(() => expect(screen.getByTestId('agency-health')).toHaveTextContent('Не налаштоване'));
  });

  test('the saved token fills the brokers’ amoCRM names', async () => {
    await openAgency();
    await fireEvent.changeText(screen.getByTestId('agency-domain'), 'reforyou.amocrm.ru');
    await fireEvent.changeText(screen.getByTestId('agency-token'), VALID_AGENCY_TOKEN);
    await fireEvent.press(screen.getByTestId('agency-save'));
    await screen.findByTestId('agency-token-saved');
    await fireEvent.press(screen.getByTestId('admin-section-brokers'));
    await waitFor(() =>
      expect(screen.getByTestId('broker-petro@foryou.test-amo-user')).toHaveTextContent('amoCRM: Петро Шевчук (amoCRM)'),
    );
  });
});

describe('app users', () => {
  async function openUsers() {
    const backend = await signedInAdmin();
    await renderApp('/admin');
    await fireEvent.press(await screen.findByTestId('admin-section-users'));
    await screen.findByTestId('user-olena@foryou.test');
    return backend;
  }

  test('create a broker: checked first, the generated one-time password shown once with a copy button', async () => {
    const backend = await openUsers();
    await fireEvent.press(screen.getByTestId('create-broker-submit'));
    expect(screen.getByTestId('create-broker-email-error')).toHaveTextContent(/Перевірте адресу/);
    expect(screen.getByTestId('create-broker-name-error')).toHaveTextContent('Вкажіть ім’я.');
    expect(backend.count('POST', '/admin/users')).toBe(0);

    await fireEvent.changeText(screen.getByLabelText('Електронна пошта'), 'oksana@foryou.test');
    await fireEvent.changeText(screen.getByLabelText('Ім’я'), 'Оксана Мельник');
    await fireEvent.press(screen.getByTestId('create-broker-submit'));
    expect(await screen.findByTestId('create-broker-created')).toHaveTextContent(/Брокера oksana@foryou.test створено/);
    expect(screen.getByTestId('create-broker-one-time-password')).toHaveTextContent(GENERATED_PASSWORD);
    expect(backend.requests.find((r) => r.method === 'POST' && r.path === '/admin/users')?.body).toEqual({
      email: 'oksana@foryou.test',
      name: 'Оксана Мельник',
    });
    await fireEvent.press(screen.getByRole('button', { name: 'Копіювати' }));
    await waitFor(() => expect(Clipboard.setStringAsync).toHaveBeenCalledWith(GENERATED_PASSWORD));
    expect(await screen.findByRole('button', { name: 'Скопійовано' })).toBeOnTheScreen();
    expect(await screen.findByTestId('user-oksana@foryou.test')).toBeOnTheScreen();

    await fireEvent.press(screen.getByTestId('create-broker-done'));
    expect(screen.queryByText(GENERATED_PASSWORD)).toBeNull();

    // The same e-mail again.
    await fireEvent.changeText(screen.getByLabelText('Електронна пошта'), 'oksana@foryou.test');
    await fireEvent.changeText(screen.getByLabelText('Ім’я'), 'Оксана');
    await fireEvent.press(screen.getByTestId('create-broker-submit'));
    expect(await screen.findByTestId('create-broker-error')).toHaveTextContent('Користувач із такою електронною поштою вже існує.');
  });

  test('block and unblock, each behind a question; the admin cannot block themselves', async () => {
    const backend = await openUsers();
    expect(screen.queryByTestId(`user-${adminUser.email}-block`)).toBeNull();
    await fireEvent.press(screen.getByRole('button', { name: 'Заблокувати Олена Коваль' }));
    expect(screen.getByTestId('user-olena@foryou.test-confirm')).toHaveTextContent(/Заблокувати Олена Коваль\?/);
    await fireEvent.press(screen.getByTestId('user-olena@foryou.test-confirm-confirm'));
    await waitFor(() => expect(screen.getByTestId('user-olena@foryou.test-status')).toHaveTextContent('Заблокований'));
    expect(backend.count('POST', `/admin/users/${olena.userId}/block`)).toBe(1);

    await fireEvent.press(screen.getByTestId('user-olena@foryou.test-unblock'));
    await fireEvent.press(screen.getByTestId('user-olena@foryou.test-confirm-confirm'));
    await waitFor(() => expect(screen.getByTestId('user-olena@foryou.test-status')).toHaveTextContent('Активний'));
    expect(backend.count('POST', `/admin/users/${olena.userId}/unblock`)).toBe(1);
  });
});

describe("the broker's reconnect request", () => {
  test('connected: a banner with the note, and one tap starts the connect flow', async () => {
    const backend = installFakeBackend();
    backend.status = { ...connected, reconnectRequested: true, reconnectNote: 'Змінилися ваші права' };
    await signedInAs(backend);
    await renderApp('/crm');
    const banner = await screen.findByTestId('amo-reconnect-requested');
    expect(banner).toHaveTextContent(/Агенція просить вас знову підключити amoCRM/);
    expect(banner).toHaveTextContent(/Примітка адміністратора: «Змінилися ваші права»/);
    await fireEvent.press(within(banner).getByRole('button', { name: 'Підключити знову' }));
    await waitFor(() => expect(backend.count('POST', '/integrations/amo-crm/authorize')).toBe(1));
    await waitFor(() => expect(WebBrowser.openAuthSessionAsync).toHaveBeenCalled());
  });

  test('not connected: the banner explains, and the connect screen’s own button says «Підключити знову»', async () => {
    const backend = installFakeBackend();
    backend.status = { ...notConnected, reconnectRequested: true, reconnectNote: null };
    await signedInAs(backend);
    await renderApp('/crm');
    const banner = await screen.findByTestId('amo-reconnect-requested');
    expect(screen.queryByTestId('amo-reconnect-note')).toBeNull();
    expect(within(banner).queryByRole('button')).toBeNull();
    await fireEvent.press(screen.getByRole('button', { name: 'Підключити знову' }));
    await waitFor(() => expect(backend.count('POST', '/integrations/amo-crm/authorize')).toBe(1));
  });

  test('without a request there is no banner', async () => {
    const backend = installFakeBackend();
    backend.status = connected;
    await signedInAs(backend);
    await renderApp('/crm');
    await screen.findByTestId('amo-status-badge');
    expect(screen.queryByTestId('amo-reconnect-requested')).toBeNull();
  });

  test('in English and Russian', async () => {
    const backend = installFakeBackend();
    backend.status = { ...connected, reconnectRequested: true, reconnectNote: null };
    await signedInAs(backend);
    await SecureStore.setItemAsync('foryou.language', 'en');
    await renderApp('/crm');
    expect(await screen.findByText('Your agency asked you to reconnect amoCRM')).toBeOnTheScreen();
    await SecureStore.setItemAsync('foryou.language', 'ru');
    await renderApp('/crm');
    expect(await screen.findByText('Агентство просит вас заново подключить amoCRM')).toBeOnTheScreen();
  });
});

describe('the console in English and Russian', () => {
  test.each([
    ['en', 'Admin', 'Needs to reconnect', '3 brokers'],
    ['ru', 'Админ', 'Нужно переподключиться', '3 брокера'],
  ])('%s', async (language, tab, state, count) => {
    await signedInAdmin();
    await SecureStore.setItemAsync('foryou.language', language);
    await renderApp('/admin');
    expect(await screen.findByTestId('brokers-count')).toHaveTextContent(count);
    expect(screen.getByTestId('tab-admin')).toHaveTextContent(new RegExp(tab));
    expect(screen.getByTestId('broker-petro@foryou.test-state')).toHaveTextContent(state);
  });
});
