import { act, fireEvent, screen, waitFor, within } from '@testing-library/react-native';
import * as SecureStore from 'expo-secure-store';
import { Linking } from 'react-native';

import {
  detailOf,
  failureWith,
  installFakeBackend,
  manyLeads,
  sampleLeads,
  type FakeBackend,
} from '@/test-support/fakeBackend';
import { connectedBroker, renderApp } from '@/test-support/router';

// The app's query client minus retry back-off and GC timers, so error states show at once.
jest.mock('@/api/queryClient', () => jest.requireActual('@/test-support/queryClientWithoutRetries'));

const leadRequests = (backend: FakeBackend) => backend.requests.filter((r) => r.method === 'GET' && r.path === '/crm/leads');

describe('CRM tab: pipelines, stages, leads', () => {
  test('opens on the main pipeline with all stages, coloured stage chips and the lead count', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm');
    expect(await screen.findByText('Продаж — 2 угоди')).toBeOnTheScreen();
    expect(screen.getByTestId('stage-chip-all')).toHaveTextContent('Усі етапи');
    expect(screen.getByTestId('stage-chip-12')).toHaveTextContent('Переговори');
    // The pipeline and its count are the tab's title; tapping it lists the other pipelines.
    expect(screen.getByRole('button', { name: 'Воронка: Продаж — 2 угоди' })).toBeOnTheScreen();
    await fireEvent.press(screen.getByTestId('pipeline-picker'));
    expect(screen.getByTestId('pipeline-chip-10')).toBeSelected();
    expect(screen.getByTestId('pipeline-chip-20')).toHaveTextContent('Оренда');
    expect(screen.getByTestId('lead-101')).toHaveTextContent(/^КН.*Квартира на Подолі.*Іван Петренко/);
    expect(screen.getByTestId('lead-101-price')).toHaveTextContent(/3\s200\s000/);
    expect(leadRequests(backend)[0]?.query).toEqual({ pipelineId: '10', mine: 'true', page: '1', limit: '25' });
  });

  test('a stage chip filters the list through the backend, "All stages" undoes it', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm');
    await screen.findByTestId('lead-101');
    await fireEvent.press(screen.getByTestId('stage-chip-142'));
    expect(await screen.findByText('Продаж — 1 угода')).toBeOnTheScreen();
    expect(screen.queryByTestId('lead-102')).toBeNull();
    expect(leadRequests(backend).at(-1)?.query).toMatchObject({ pipelineId: '10', stageId: '142' });

    await fireEvent.press(screen.getByTestId('stage-chip-all'));
    expect(await screen.findByTestId('lead-102')).toBeOnTheScreen();
  });

  test('another pipeline: its own stages and an empty state', async () => {
    await connectedBroker();
    await renderApp('/crm');
    await screen.findByTestId('lead-101');
    await fireEvent.press(screen.getByTestId('pipeline-picker'));
    await fireEvent.press(screen.getByTestId('pipeline-chip-20'));
    expect(await screen.findByText('Оренда — 0 угод')).toBeOnTheScreen();
    expect(screen.getByTestId('leads-empty')).toHaveTextContent('Угод поки немає.');
    expect(screen.getByTestId('stage-chip-21')).toBeOnTheScreen();
    expect(screen.queryByTestId('stage-chip-11')).toBeNull();
  });

  test('search waits for typing to pause, then asks the backend once', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm');
    await screen.findByTestId('lead-101');
    const before = leadRequests(backend).length;
    await fireEvent.changeText(screen.getByTestId('leads-search'), 'Буд');
    await fireEvent.changeText(screen.getByTestId('leads-search'), 'Будинок');
    await waitFor(() => expect(screen.queryByTestId('lead-101')).toBeNull());
    expect(await screen.findByTestId('lead-102')).toBeOnTheScreen();
    const searches = leadRequests(backend).slice(before);
    expect(searches.map((r) => r.query.query)).toEqual(['Будинок']);
  });

  test('the search field clears with one tap, and the whole list comes back', async () => {
    await connectedBroker();
    await renderApp('/crm');
    await screen.findByTestId('lead-101');
    expect(screen.queryByTestId('leads-search-clear')).toBeNull();
    await fireEvent.changeText(screen.getByTestId('leads-search'), 'Будинок');
    await waitFor(() => expect(screen.queryByTestId('lead-101')).toBeNull());
    await fireEvent.press(screen.getByRole('button', { name: 'Очистити пошук' }));
    expect(screen.getByTestId('leads-search')).toHaveDisplayValue('');
    expect(await screen.findByTestId('lead-101')).toBeOnTheScreen();
    expect(screen.queryByTestId('leads-search-clear')).toBeNull();
  });

  test('infinite scroll: "25+" until the last page, then the exact count', async () => {
    const backend = await connectedBroker((b) => {
      b.leads = manyLeads(30);
    });
    await renderApp('/crm');
    expect(await screen.findByText('Продаж — 25+ угод')).toBeOnTheScreen();
    await act(async () => {
      screen.getByTestId('lead-list').props.onEndReached();
    });
    expect(await screen.findByText('Продаж — 30 угод')).toBeOnTheScreen();
    expect(leadRequests(backend).map((r) => r.query.page)).toEqual(['1', '2']);
  });

  test('pull-to-refresh reads amoCRM again and offers the ETag; a 304 keeps the list', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm');
    await screen.findByTestId('lead-101');
    const list = screen.getByTestId('lead-list');
    await act(async () => {
      await list.props.refreshControl.props.onRefresh();
    });
    const refresh = leadRequests(backend).at(-1);
    expect(refresh?.query.refresh).toBe('true');
    expect(refresh?.headers['If-None-Match']).toMatch(/^"/);
    expect(screen.getByTestId('lead-101')).toBeOnTheScreen();
    expect(screen.getByTestId('leads-summary')).toHaveTextContent('Продаж — 2 угоди');
  });

  test('coming back to the tab refetches with the ETag (a 304 changes nothing)', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm');
    await screen.findByTestId('lead-101');
    const before = leadRequests(backend).length;
    await fireEvent.press(screen.getByTestId('tab-home'));
    await screen.findByTestId('home-screen');
    await fireEvent.press(screen.getByTestId('tab-crm'));
    await waitFor(() => expect(leadRequests(backend).length).toBeGreaterThan(before));
    const focusRefetch = leadRequests(backend).at(-1);
    expect(focusRefetch?.headers['If-None-Match']).toMatch(/^"/);
    expect(focusRefetch?.query.refresh).toBeUndefined();
    expect(screen.getByTestId('lead-101')).toBeOnTheScreen();
  });

  test('in English', async () => {
    await connectedBroker();
    await SecureStore.setItemAsync('foryou.language', 'en');
    await renderApp('/crm');
    expect(await screen.findByText('Продаж — 2 leads')).toBeOnTheScreen();
    expect(screen.getByTestId('stage-chip-all')).toHaveTextContent('All stages');
    expect(screen.getByTestId('new-lead')).toHaveTextContent('+ New lead');
    await fireEvent.press(screen.getByTestId('lead-102'));
    expect(await screen.findByTestId('lead-timeline')).toHaveTextContent(/History.*Lead created/);
  });

  test('Russian lead count and stage filter', async () => {
    await connectedBroker();
    await SecureStore.setItemAsync('foryou.language', 'ru');
    await renderApp('/crm');
    expect(await screen.findByText('Продаж — 2 сделки')).toBeOnTheScreen();
    expect(screen.getByTestId('stage-chip-all')).toHaveTextContent('Все этапы');
  });

  test('pipelines that fail to load: an error with retry', async () => {
    await connectedBroker((b) => b.failOnce('GET', '/crm/pipelines', 503, 'amo_upstream_unavailable'));
    await renderApp('/crm');
    expect(await screen.findByTestId('pipelines-error')).toHaveTextContent(/Не вдалося завантажити воронки/);
    await fireEvent.press(screen.getByTestId('pipelines-error-retry'));
    expect(await screen.findByTestId('lead-101')).toBeOnTheScreen();
  });
});

describe('lead details', () => {
  test('name, stage, price, contacts to call and write to, fields, tags, responsible, timeline', async () => {
    const openURL = jest.spyOn(Linking, 'openURL').mockResolvedValue(true);
    await connectedBroker();
    await renderApp('/crm');
    await fireEvent.press(await screen.findByTestId('lead-101'));
    expect(await screen.findByTestId('lead-detail-name')).toHaveTextContent('Квартира на Подолі');
    expect(screen.getByTestId('lead-detail-stage')).toHaveTextContent('Успішно реалізовано');
    expect(screen.getByTestId('lead-detail-price')).toHaveTextContent(/3\s200\s000/);
    expect(screen.getByTestId('lead-detail-responsible')).toHaveTextContent('Олена Коваль');
    expect(screen.getByTestId('lead-detail-created')).toHaveTextContent(/2026/);
    expect(screen.getByTestId('lead-detail-fields')).toHaveTextContent(/Район.*Поділ/);
    expect(screen.getByTestId('lead-detail-tags')).toHaveTextContent(/VIP/);
    const timeline = screen.getByTestId('lead-timeline');
    expect(within(timeline).getByTestId('timeline-note:5501')).toHaveTextContent(/Примітка.*Перезвонити у вівторок/);
    expect(within(timeline).getByTestId('timeline-event:2')).toHaveTextContent(/^Етап змінено: Первинний контакт → Переговори.*Олена Коваль$/);
    expect(within(timeline).getByTestId('timeline-event:1')).toHaveTextContent(/^Угоду створено/);

    await fireEvent.press(screen.getByTestId('lead-phone-1010-0'));
    expect(openURL).toHaveBeenCalledWith('tel:+380501234567');
    await fireEvent.press(screen.getByTestId('lead-email-1010-0'));
    expect(openURL).toHaveBeenCalledWith('mailto:ivan@example.com');
  });

  test('a lead the broker may not see: a clear "not available", and the way back', async () => {
    await connectedBroker();
    const app = await renderApp('/crm/lead/999');
    expect(await screen.findByTestId('lead-not-available')).toHaveTextContent(/Угода недоступна/);
    await fireEvent.press(screen.getByTestId('lead-not-available-back'));
    await waitFor(() => expect(app.getPathname()).toBe('/crm'));
  });

  test('other failures offer a retry', async () => {
    await connectedBroker((b) => {
      b.failOnce('GET', '/crm/leads/101', 504, 'amo_upstream_timeout');
      b.details.set(101, detailOf(sampleLeads[0]!, { tags: [] }));
    });
    await renderApp('/crm/lead/101');
    await fireEvent.press(await screen.findByTestId('lead-error-retry'));
    expect(await screen.findByTestId('lead-detail-name')).toHaveTextContent('Квартира на Подолі');
    expect(screen.queryByTestId('lead-detail-tags')).toBeNull();
  });

  test('a connection that died meanwhile sends the broker back to reconnect', async () => {
    await connectedBroker((b) => b.failOnce('GET', '/crm/leads/101', 409, 'amo_reauth_required'));
    await renderApp('/crm/lead/101');
    expect(await screen.findByTestId('lead-connection-gone')).toHaveTextContent(/Потрібно підключитися знову/);
  });

  test('signed out: the lead route asks to sign in first', async () => {
    installFakeBackend();
    const app = await renderApp('/crm/lead/101');
    expect(await screen.findByTestId('sign-in-screen')).toBeOnTheScreen();
    expect(app.getPathname()).toBe('/sign-in');
  });
});

async function fillNewLead(fields: Partial<Record<'name' | 'phone' | 'email' | 'price' | 'comment', string>>) {
  for (const [field, value] of Object.entries(fields)) {
    await fireEvent.changeText(screen.getByTestId(`new-lead-${field}`), value);
  }
}

async function openNewLeadForm() {
  await fireEvent.press(await screen.findByTestId('new-lead'));
  await fireEvent.press(await screen.findByTestId('new-lead-pipeline-10'));
  // Won and lost stages are not offered for a new lead.
  expect(screen.queryByTestId('new-lead-stage-142')).toBeNull();
  await fireEvent.press(screen.getByTestId('new-lead-stage-12'));
  await screen.findByTestId('new-lead-form');
}

describe("the account's currency in the broker's language", () => {
  test.each<[string, string, RegExp, string, string]>([
    ['uk', 'UAH', /^3\s200\s000\s₴$/, 'Бюджет, ₴', '125\u00a0000'],
    ['ru', 'RUB', /^3\s200\s000\s₽$/, 'Бюджет, ₽', '125\u00a0000'],
    ['en', 'RUB', /^RUB\s3,200,000$/, 'Budget, RUB', '125,000'],
  ])('%s, %s: the list card and the new-lead budget field', async (language, currency, cardPrice, label, example) => {
    await connectedBroker((backend) => {
      backend.currency = currency;
    });
    await SecureStore.setItemAsync('foryou.language', language);
    await renderApp('/crm');
    await waitFor(() => expect(screen.getByTestId('lead-101-price')).toHaveTextContent(cardPrice));

    await openNewLeadForm();
    const priceInput = screen.getByTestId('new-lead-price');
    expect(priceInput.props.accessibilityLabel).toBe(label);
    expect(priceInput.props.placeholder.replace(/\s/g, '\u00a0')).toBe(example);
  });

  test('without a known currency the card shows the grouped number alone', async () => {
    await connectedBroker((backend) => {
      backend.currency = null;
    });
    await renderApp('/crm');
    expect(await screen.findByTestId('lead-101-price')).toHaveTextContent(/^3\s200\s000$/);
  });
});

const creates = (backend: FakeBackend) => backend.requests.filter((r) => r.method === 'POST' && r.path === '/crm/leads');

describe('new lead', () => {
  test('pipeline → stage → form; clear messages; the new lead tops the list without a refresh', async () => {
    const backend = await connectedBroker();
    const app = await renderApp('/crm');
    await screen.findByTestId('lead-101');
    await openNewLeadForm();

    await fireEvent.press(screen.getByTestId('new-lead-submit'));
    expect(screen.getByTestId('new-lead-contact-error')).toHaveTextContent('Вкажіть хоча б одне: ім’я, телефон або електронну пошту.');
    // One message: the rule's hint turns into the error instead of repeating it.
    expect(screen.queryByTestId('new-lead-hint')).toBeNull();
    expect(screen.getAllByText(/хоча б одне/)).toHaveLength(1);
    await fillNewLead({ phone: '12', email: 'ivan@', price: '-3' });
    await fireEvent.press(screen.getByTestId('new-lead-submit'));
    expect(screen.getByTestId('new-lead-phone-error')).toHaveTextContent(/від 7 до 15 цифр/);
    expect(screen.getByTestId('new-lead-email-error')).toHaveTextContent(/name@example.com/);
    expect(screen.getByTestId('new-lead-price-error')).toHaveTextContent(/ціле невід’ємне число/);
    expect(creates(backend)).toHaveLength(0);

    await fillNewLead({ name: 'Марія Шевченко', phone: '+38 (067) 111-22-33', email: 'maria@example.com', price: '125 000', comment: 'Дзвінок' });
    await fireEvent.press(screen.getByTestId('new-lead-submit'));
    expect(await screen.findByTestId('lead-created-notice')).toHaveTextContent(/Угоду «Марія Шевченко» створено в amoCRM\./);
    expect(app.getPathname()).toBe('/crm');
    const [created] = creates(backend);
    expect(created?.body).toEqual({
      pipelineId: 10,
      stageId: 12,
      name: 'Марія Шевченко',
      phone: '+38 (067) 111-22-33',
      email: 'maria@example.com',
      price: 125000,
      comment: 'Дзвінок',
    });
    expect(created?.headers['Idempotency-Key']).toMatch(/^[A-Za-z0-9_.:-]{8,100}$/);
    const newId = backend.created[0]?.id as number;
    const list = screen.getByTestId('lead-list');
    expect(within(list).getByTestId(`lead-${newId}`)).toHaveTextContent(/Марія Шевченко/);
    expect(screen.getByTestId('leads-summary')).toHaveTextContent('Продаж — 3 угоди');

    await fireEvent.press(screen.getByTestId('lead-created-open'));
    expect(await screen.findByTestId('lead-detail-name')).toHaveTextContent('Марія Шевченко');
  });

  test('a partial failure is explained; retrying sends the same key and creates nothing twice', async () => {
    const backend = await connectedBroker((b) =>
      b.replyOnce(
        'POST',
        '/crm/leads',
        failureWith(502, 'amo_partial_failure', [
          { step: 'contact', status: 'created', id: 1 },
          { step: 'lead', status: 'created', id: 2 },
          { step: 'note', status: 'failed', error: 'amo_upstream_error' },
          { step: 'task', status: 'pending' },
        ]),
      ),
    );
    await renderApp('/crm');
    await openNewLeadForm();
    await fillNewLead({ name: 'Олег', comment: 'Перезвонити' });
    await fireEvent.press(screen.getByTestId('new-lead-submit'));
    expect(await screen.findByTestId('new-lead-error')).toHaveTextContent(
      /частково.*Збережено: контакт, угода.*Не збережено: коментар, завдання/,
    );
    expect(screen.getByTestId('new-lead-submit')).toHaveTextContent('Спробувати ще раз');

    await fireEvent.press(screen.getByTestId('new-lead-submit'));
    expect(await screen.findByTestId('lead-created-notice')).toBeOnTheScreen();
    const [first, retry] = creates(backend);
    expect(retry?.headers['Idempotency-Key']).toBe(first?.headers['Idempotency-Key']);
    expect(backend.created).toHaveLength(1);
  });

  test('a changed form after a failure is a new submit with a new key', async () => {
    const backend = await connectedBroker((b) => b.failOnce('POST', '/crm/leads', 504, 'amo_upstream_timeout'));
    await renderApp('/crm');
    await openNewLeadForm();
    await fillNewLead({ name: 'Олег' });
    await fireEvent.press(screen.getByTestId('new-lead-submit'));
    expect(await screen.findByTestId('new-lead-error')).toHaveTextContent(/не відповідає.*не буде продубльована/);
    await fillNewLead({ name: 'Олег Бондар' });
    await fireEvent.press(screen.getByTestId('new-lead-submit'));
    expect(await screen.findByTestId('lead-created-notice')).toBeOnTheScreen();
    const [first, second] = creates(backend);
    expect(second?.headers['Idempotency-Key']).not.toBe(first?.headers['Idempotency-Key']);
  });

  test('a write amoCRM may still be doing: the retry waits out Retry-After, then uses the same key', async () => {
    const backend = await connectedBroker((b) =>
      b.replyOnce('POST', '/crm/leads', {
        status: 409,
        headers: { 'Retry-After': '1' },
        body: { success: false, error: { code: 'idempotency_in_progress', message: 'x', requestId: 'r' } },
      }),
    );
    await renderApp('/crm');
    await openNewLeadForm();
    await fillNewLead({ email: 'olga@example.com' });
    await fireEvent.press(screen.getByTestId('new-lead-submit'));
    expect(await screen.findByTestId('new-lead-error')).toHaveTextContent(/ще зберігається/);
    expect(screen.getByTestId('new-lead-submit')).toHaveTextContent('Спробувати ще раз через 1 с');
    expect(screen.getByTestId('new-lead-submit')).toBeDisabled();
    await waitFor(() => expect(screen.getByTestId('new-lead-submit')).toHaveTextContent('Спробувати ще раз'), { timeout: 3000 });
    expect(screen.getByTestId('new-lead-submit')).toBeEnabled();
    await fireEvent.press(screen.getByTestId('new-lead-submit'));
    expect(await screen.findByTestId('lead-created-notice')).toBeOnTheScreen();
    const [first, retry] = creates(backend);
    expect(retry?.headers['Idempotency-Key']).toBe(first?.headers['Idempotency-Key']);
  });

  test('the backend’s field errors land on the fields', async () => {
    await connectedBroker((b) =>
      b.replyOnce('POST', '/crm/leads', failureWith(422, 'validation_error', [{ field: 'phone', message: 'bad phone' }])),
    );
    await renderApp('/crm');
    await openNewLeadForm();
    await fillNewLead({ phone: '+380671112233' });
    await fireEvent.press(screen.getByTestId('new-lead-submit'));
    expect(await screen.findByTestId('new-lead-error')).toHaveTextContent('Перевірте виділені поля.');
    expect(screen.getByTestId('new-lead-phone-error')).toBeOnTheScreen();
  });
});
