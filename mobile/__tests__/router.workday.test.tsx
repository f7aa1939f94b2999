import { act, fireEvent, screen, waitFor, within } from '@testing-library/react-native';
import * as SecureStore from 'expo-secure-store';
import { AppState, Linking } from 'react-native';

import type { Pipeline, Stage } from '@/api/types';
import { colors } from '@/components/ui/theme';
import { type FakeBackend, sampleBoard, samplePipelines } from '@/test-support/fakeBackend';
import { connectedBroker, renderApp } from '@/test-support/router';

// The app's query client minus retry back-off and GC timers, so error states show at once.
jest.mock('@/api/queryClient', () => jest.requireActual('@/test-support/queryClientWithoutRetries'));

const atFirstStage = (backend: FakeBackend) =>
  backend.updateLead(101, { stageId: 11, stageName: 'Первинний контакт', stageColor: '#99ccff' });

const requestsTo = (backend: FakeBackend, method: string, path: string) =>
  backend.requests.filter((r) => r.method === method && r.path === path);

async function openStagePicker() {
  await fireEvent.press(await screen.findByTestId('lead-change-stage'));
  return screen.findByTestId('stage-picker');
}

describe('lead detail: stage, budget, notes', () => {
  test('a stage move shows at once and is undone with the reason when amoCRM refuses (403)', async () => {
    const backend = await connectedBroker(atFirstStage);
    await renderApp('/crm/lead/101');
    expect(await screen.findByTestId('lead-detail-stage')).toHaveTextContent('Первинний контакт');
    await openStagePicker();
    expect(screen.getByTestId('stage-option-10-11')).toHaveTextContent(/Первинний контакт.*зараз/);

    backend.failOnce('PATCH', '/crm/leads/101', 403, 'amo_forbidden');
    const release = backend.hold('PATCH', '/crm/leads/101');
    await fireEvent.press(screen.getByTestId('stage-option-10-12'));
    // Optimistic: the new stage is on screen while amoCRM is being asked.
    await waitFor(() => expect(screen.getByTestId('lead-detail-stage')).toHaveTextContent('Переговори'));
    expect(screen.queryByTestId('stage-picker')).toBeNull();
    await act(async () => release());

    await waitFor(() => expect(screen.getByTestId('lead-detail-stage')).toHaveTextContent('Первинний контакт'));
    expect(screen.getByTestId('lead-edit-error')).toHaveTextContent('amoCRM не дозволяє вам змінювати цю угоду.', { exact: false });
    expect(requestsTo(backend, 'PATCH', '/crm/leads/101')[0]?.body).toEqual({ pipelineId: 10, statusId: 12 });
  });

  test.each([
    [403, 'amo_forbidden', 'amoCRM does not allow you to change this lead.'],
    [422, 'stage_not_allowed', 'The lead cannot be moved to this stage. Choose another one.'],
    [503, 'amo_upstream_unavailable', 'amoCRM is not answering right now. The change was undone — try again.'],
    [0, 'network_error', 'Cannot reach the server. The change was undone — try again.'],
  ])('a refusal %s %s is explained in English', async (status, code, message) => {
    const backend = await connectedBroker(atFirstStage);
    if (status === 0) {
      backend.replyOnce('PATCH', '/crm/leads/101', { status: 0 });
    } else {
      backend.failOnce('PATCH', '/crm/leads/101', status, code);
    }
    await SecureStore.setItemAsync('foryou.language', 'en');
    await renderApp('/crm/lead/101');
    await openStagePicker();
    await fireEvent.press(screen.getByTestId('stage-option-20-21'));
    expect(await screen.findByTestId('lead-edit-error')).toHaveTextContent(message, { exact: false });
    expect(screen.getByTestId('lead-detail-stage')).toHaveTextContent('Первинний контакт');
  });

  test('stages are grouped by pipeline; won and lost ask first; the incoming stage is never offered', async () => {
    const unsorted = { id: 9, name: 'Неразібране', color: '#c1c1c1', sort: 5, type: 'unsorted' } as unknown as Stage;
    const backend = await connectedBroker((b) => {
      atFirstStage(b);
      b.pipelines = samplePipelines.map((p): Pipeline => (p.id === 10 ? { ...p, stages: [unsorted, ...p.stages] } : p));
    });
    await renderApp('/crm/lead/101');
    await openStagePicker();
    expect(screen.getByTestId('stage-group-10')).toHaveTextContent(/^Продаж/);
    expect(screen.getByTestId('stage-group-20')).toHaveTextContent(/^Оренда.*Новий запит/);
    expect(screen.queryByTestId('stage-option-10-9')).toBeNull();

    await fireEvent.press(screen.getByTestId('stage-option-10-142'));
    expect(await screen.findByTestId('stage-confirm')).toHaveTextContent(
      /Позначити угоду як успішно реалізовану\?.*Угода «Квартира на Подолі» перейде в етап «Успішно реалізовано»\./,
    );
    expect(requestsTo(backend, 'PATCH', '/crm/leads/101')).toHaveLength(0);
    await fireEvent.press(screen.getByTestId('stage-confirm-no'));
    await fireEvent.press(await screen.findByTestId('stage-option-10-143'));
    expect(await screen.findByTestId('stage-confirm')).toHaveTextContent(/Закрити угоду як нереалізовану\?/);
    await fireEvent.press(screen.getByTestId('stage-confirm-yes'));

    await waitFor(() => expect(screen.getByTestId('lead-detail-stage')).toHaveTextContent('Закрито і не реалізовано'));
    expect(screen.getByTestId('lead-edit-saved')).toHaveTextContent('Зміни збережено в amoCRM.', { exact: false });
    expect(requestsTo(backend, 'PATCH', '/crm/leads/101').map((r) => r.body)).toEqual([{ pipelineId: 10, statusId: 143 }]);
  });

  test('the budget is shown in the account currency and edited in place', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm/lead/101');
    await waitFor(() => expect(screen.getByTestId('lead-detail-price')).toHaveTextContent(/^3\s200\s000\s₴$/));
    await fireEvent.press(screen.getByTestId('lead-edit-price'));
    await fireEvent.changeText(screen.getByTestId('lead-price-input'), '-5');
    await fireEvent.press(screen.getByTestId('lead-price-save'));
    expect(screen.getByTestId('lead-edit-error')).toHaveTextContent(/ціле невід’ємне число/);
    await fireEvent.changeText(screen.getByLabelText('Бюджет, UAH'), '3 500 000');
    await fireEvent.press(screen.getByTestId('lead-price-save'));
    await waitFor(() => expect(screen.getByTestId('lead-detail-price')).toHaveTextContent(/^3\s500\s000\s₴$/));
    expect(requestsTo(backend, 'PATCH', '/crm/leads/101').map((r) => r.body)).toEqual([{ price: 3500000 }]);
  });

  test('a note: retrying after a failure sends the same key, so the note is added once', async () => {
    const backend = await connectedBroker((b) => b.failOnce('POST', '/crm/leads/101/notes', 503, 'amo_upstream_unavailable'));
    await renderApp('/crm/lead/101');
    await fireEvent.press(await screen.findByTestId('note-submit'));
    expect(screen.getByTestId('note-error')).toHaveTextContent('Напишіть текст примітки.', { exact: false });
    await fireEvent.changeText(screen.getByLabelText('Нова примітка'), 'Клієнт хоче показ у суботу');
    await fireEvent.press(screen.getByTestId('note-submit'));
    expect(await screen.findByTestId('note-error')).toHaveTextContent(
      'amoCRM зараз не відповідає. Спробуйте ще раз — примітка не задвоїться.',
    { exact: false },
    );
    await fireEvent.press(screen.getByTestId('note-submit'));
    expect(await screen.findByTestId('note-added')).toHaveTextContent('Примітку додано.', { exact: false });
    expect(screen.getByTestId('note-text').props.value).toBe('');
    const timeline = screen.getByTestId('lead-timeline');
    await waitFor(() => expect(within(timeline).getAllByText('Клієнт хоче показ у суботу')).toHaveLength(1));

    await fireEvent.changeText(screen.getByTestId('note-text'), 'Ще одна');
    await fireEvent.press(screen.getByTestId('note-submit'));
    expect(await within(timeline).findByText('Ще одна')).toBeOnTheScreen();
    const keys = requestsTo(backend, 'POST', '/crm/leads/101/notes').map((r) => r.headers['Idempotency-Key']);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^note-/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[1]);
  });

  test('a task for the lead: type, a preset or a typed due time (checked), one key per submit', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm/lead/101');
    await fireEvent.press(await screen.findByTestId('lead-add-task'));
    await screen.findByTestId('add-task');
    await fireEvent.press(screen.getByTestId('add-task-type-meeting'));
    await fireEvent.changeText(screen.getByTestId('add-task-due'), '2026-02-30 10:00');
    await fireEvent.press(screen.getByTestId('add-task-submit'));
    expect(screen.getByTestId('add-task-due-error')).toHaveTextContent(/2026-12-01 10:00/);
    expect(requestsTo(backend, 'POST', '/crm/tasks')).toHaveLength(0);

    await fireEvent.press(screen.getByTestId('add-task-preset-tomorrowMorning'));
    await fireEvent.changeText(screen.getByTestId('add-task-text'), 'Показ квартири');
    await fireEvent.press(screen.getByTestId('add-task-submit'));
    expect(await screen.findByTestId('lead-edit-saved')).toHaveTextContent('Задачу додано.', { exact: false });
    expect(screen.queryByTestId('add-task')).toBeNull();
    const [sent] = requestsTo(backend, 'POST', '/crm/tasks');
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    tomorrow.setHours(10, 0, 0, 0);
    expect(sent?.body).toEqual({ leadId: 101, type: 'meeting', text: 'Показ квартири', dueAt: tomorrow.toISOString() });
    expect(sent?.headers['Idempotency-Key']).toMatch(/^task-/);
  });
});

describe('Tasks tab', () => {
  test('overdue (red), today and upcoming; the badge counts overdue + today', async () => {
    await connectedBroker((b) => {
      b.board = sampleBoard();
    });
    await renderApp('/tasks');
    expect(await screen.findByTestId('tasks-overdue')).toHaveTextContent('Прострочені · 1');
    expect(screen.getByTestId('tasks-today')).toHaveTextContent('Сьогодні · 2');
    expect(screen.getByTestId('tasks-upcoming')).toHaveTextContent('Найближчі · 1');
    expect(screen.getByTestId('tasks-overdue')).toHaveStyle({ color: colors.danger });
    expect(screen.getByTestId('task-301-due')).toHaveStyle({ color: colors.danger });
    expect(screen.getByTestId('task-302-due')).toHaveTextContent(/^15:00 · Дзвінок$/);
    expect(screen.getByTestId('task-304')).toHaveTextContent(/Підписання договору.*Будинок в Ірпені/);
    expect(within(screen.getByTestId('tab-tasks')).getByText('3')).toBeOnTheScreen();
  });

  test('tap a task, write the result, done: it leaves the board and the badge', async () => {
    const backend = await connectedBroker((b) => {
      b.board = sampleBoard();
    });
    await renderApp('/tasks');
    await fireEvent.press(await screen.findByTestId('task-302-open'));
    expect(await screen.findByTestId('complete-task-text')).toHaveTextContent(/Зателефонувати клієнту.*Квартира на Подолі/);
    await fireEvent.press(screen.getByTestId('complete-task-submit'));
    expect(screen.getByTestId('complete-task-error')).toHaveTextContent('Опишіть результат.', { exact: false });
    await fireEvent.changeText(screen.getByLabelText('Результат'), 'Домовились про показ');
    await fireEvent.press(screen.getByTestId('complete-task-submit'));
    expect(await screen.findByTestId('task-completed')).toHaveTextContent('Задачу виконано.', { exact: false });
    await waitFor(() => expect(screen.queryByTestId('task-302')).toBeNull());
    expect(requestsTo(backend, 'POST', '/crm/tasks/302/complete')[0]?.body).toEqual({ result: 'Домовились про показ' });
    await waitFor(() => expect(within(screen.getByTestId('tab-tasks')).getByText('2')).toBeOnTheScreen());
  });

  test('a refused completion says why and keeps the task', async () => {
    await connectedBroker((b) => {
      b.board = sampleBoard();
      b.failOnce('POST', '/crm/tasks/301/complete', 403, 'amo_forbidden');
    });
    await SecureStore.setItemAsync('foryou.language', 'ru');
    await renderApp('/tasks');
    await fireEvent.press(await screen.findByTestId('task-301-open'));
    await fireEvent.changeText(await screen.findByTestId('complete-task-result'), 'Не дозвонился');
    await fireEvent.press(screen.getByTestId('complete-task-submit'));
    expect(await screen.findByTestId('complete-task-error')).toHaveTextContent('amoCRM не позволяет вам изменять эту задачу.', { exact: false });
    expect(screen.getByTestId('task-301')).toBeOnTheScreen();
  });

  test('a call task calls the lead’s contact; a meeting has no call button', async () => {
    const openURL = jest.spyOn(Linking, 'openURL').mockResolvedValue(true);
    await connectedBroker((b) => {
      b.board = sampleBoard();
    });
    await SecureStore.setItemAsync('foryou.language', 'en');
    await renderApp('/tasks');
    const call = await screen.findByTestId('task-302-call');
    expect(call).toHaveProp('accessibilityLabel', 'Call Іван Петренко, +380 50 123-45-67');
    await fireEvent.press(call);
    expect(openURL).toHaveBeenCalledWith('tel:+380501234567');
    expect(screen.queryByTestId('task-303-call')).toBeNull();
    expect(screen.getByTestId('tasks-upcoming')).toHaveTextContent('Upcoming · 1');
  });

  test('empty, and not connected', async () => {
    await connectedBroker((b) => {
      b.status = { ...b.status, state: 'not_connected', connected: false };
    });
    await renderApp('/tasks');
    expect(await screen.findByTestId('tasks-not-connected')).toHaveTextContent(/Підключіть amoCRM на вкладці CRM/);
  });
});

describe('live updates', () => {
  const streamOpen = async (backend: FakeBackend) => waitFor(() => expect(backend.openStreams()).toHaveLength(1));

  test('a lead changed in amoCRM: the open list shows it without a pull-to-refresh', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm');
    await screen.findByTestId('lead-101');
    await streamOpen(backend);
    expect(backend.streams[0]?.url).toMatch(/\/events\/stream\?ticket=ticket-1$/);
    backend.updateLead(101, { name: 'Квартира на Подолі, 3 кімнати', stageId: 12, stageName: 'Переговори' });
    await act(async () => {
      backend.emit('lead.changed', { leadId: 101 });
    });
    expect(await screen.findByText('Квартира на Подолі, 3 кімнати')).toBeOnTheScreen();
    expect(requestsTo(backend, 'GET', '/crm/leads').every((r) => r.query.refresh === undefined)).toBe(true);
  });

  test('lead.assigned: a notice over the screen; a tap opens the lead', async () => {
    const backend = await connectedBroker();
    const app = await renderApp('/crm');
    await screen.findByTestId('lead-101');
    await streamOpen(backend);
    await act(async () => {
      backend.emit('lead.assigned', { leadId: 102, name: 'Будинок в Ірпені' });
    });
    expect(await screen.findByTestId('lead-assigned-notice')).toHaveTextContent('Вам призначено угоду: Будинок в Ірпені', { exact: false });
    await fireEvent.press(screen.getByLabelText('Відкрити угоду «Будинок в Ірпені»'));
    await waitFor(() => expect(app.getPathname()).toBe('/crm/lead/102'));
    expect(screen.queryByTestId('lead-assigned-notice')).toBeNull();
    expect(await screen.findByTestId('lead-detail-name')).toHaveTextContent('Будинок в Ірпені');
  });

  test('task.changed refreshes the board; reset refetches everything', async () => {
    const backend = await connectedBroker((b) => {
      b.board = sampleBoard();
    });
    await renderApp('/tasks');
    await screen.findByTestId('task-302');
    await streamOpen(backend);
    backend.board = { ...backend.board, today: [] };
    await act(async () => {
      backend.emit('task.changed', { taskId: 302 });
    });
    await waitFor(() => expect(screen.queryByTestId('task-302')).toBeNull());

    const statusReads = requestsTo(backend, 'GET', '/integrations/amo-crm/status').length;
    const boardReads = requestsTo(backend, 'GET', '/crm/tasks').length;
    await act(async () => {
      backend.emit('reset');
    });
    await waitFor(() => expect(requestsTo(backend, 'GET', '/integrations/amo-crm/status').length).toBeGreaterThan(statusReads));
    expect(requestsTo(backend, 'GET', '/crm/tasks').length).toBeGreaterThan(boardReads);
  });

  test('after a network loss it reconnects with a fresh ticket and resumes after the last event', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm');
    await screen.findByTestId('lead-101');
    await streamOpen(backend);
    let lastId = '';
    await act(async () => {
      lastId = backend.emit('crm.invalidated');
    });
    await act(async () => backend.dropStreams());
    // The reconnect waits out a real backoff of about a second; a loaded machine may take longer.
    await waitFor(() => expect(backend.openStreams()).toHaveLength(1), { timeout: 10_000 });
    expect(backend.streams).toHaveLength(2);
    expect(backend.streams[1]?.lastEventId).toBe(lastId);
    expect(backend.streams[1]?.url).toMatch(/ticket=ticket-2/);
  }, 20_000);

  test('background closes the stream; the foreground reconnects at once with Last-Event-ID', async () => {
    const backend = await connectedBroker();
    await renderApp('/crm');
    await screen.findByTestId('lead-101');
    await streamOpen(backend);
    const listener = jest
      .mocked(AppState.addEventListener)
      .mock.calls.filter(([type]) => type === 'change')
      .at(-1)?.[1] as (state: string) => void;
    let lastId = '';
    await act(async () => {
      lastId = backend.emit('lead.changed', { leadId: 101 });
    });
    await act(async () => listener('background'));
    expect(backend.openStreams()).toHaveLength(0);
    await act(async () => listener('active'));
    await streamOpen(backend);
    expect(backend.streams.at(-1)?.lastEventId).toBe(lastId);
  });

  test('signing out closes the stream', async () => {
    const backend = await connectedBroker();
    await renderApp('/settings');
    await streamOpen(backend);
    await fireEvent.press(await screen.findByTestId('sign-out'));
    await screen.findByTestId('sign-in-screen');
    expect(backend.openStreams()).toHaveLength(0);
  });
});
