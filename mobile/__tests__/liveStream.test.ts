import { formatMoney } from '@/components/crm/format';
import { parseLiveEvent, reconnectDelay } from '@/components/live/liveStream';
import { formatDueInput, parseDueInput, presetDue } from '@/components/tasks/dueDate';
import { createSseParser, type SseEvent } from '@/lib/sse';

describe('the text/event-stream parser', () => {
  function parse(...chunks: string[]): SseEvent[] {
    const events: SseEvent[] = [];
    const parser = createSseParser((event) => events.push(event));
    for (const chunk of chunks) parser.push(chunk);
    return events;
  }

  test('named events with ids, split anywhere between chunks', () => {
    expect(parse('id: 7\nevent: lead.cha', 'nged\ndata: {"leadId":', '101}\n', '\n')).toEqual([
      { type: 'lead.changed', data: '{"leadId":101}', id: '7' },
    ]);
  });

  test('heartbeat comments and retry are ignored; CRLF works; data lines join with \\n', () => {
    expect(parse(': heartbeat\r\n\r\nretry: 1000\r\ndata: a\r\ndata: b\r\n\r\n')).toEqual([
      { type: 'message', data: 'a\nb', id: null },
    ]);
  });

  test('the last id carries over to events without one; an event ends only at a blank line', () => {
    expect(parse('id: 3\nevent: reset\ndata: {}\n\nevent: crm.invalidated\ndata: {}\n\nevent: task.changed\ndata: {}\n')).toEqual([
      { type: 'reset', data: '{}', id: '3' },
      { type: 'crm.invalidated', data: '{}', id: '3' },
    ]);
  });
});

describe('live events', () => {
  test('known events are read, anything else is dropped', () => {
    expect(parseLiveEvent({ type: 'lead.assigned', data: '{"leadId":5,"name":"Офіс"}', id: '1' })).toEqual({
      type: 'lead.assigned',
      leadId: 5,
      name: 'Офіс',
    });
    expect(parseLiveEvent({ type: 'task.changed', data: '{"taskId":9}', id: null })).toEqual({ type: 'task.changed', taskId: 9 });
    expect(parseLiveEvent({ type: 'reset', data: '', id: null })).toEqual({ type: 'reset' });
    expect(parseLiveEvent({ type: 'lead.changed', data: '{"leadId":"x"}', id: null })).toBeNull();
    expect(parseLiveEvent({ type: 'lead.changed', data: 'not json', id: null })).toBeNull();
    expect(parseLiveEvent({ type: 'something.new', data: '{}', id: null })).toBeNull();
  });

  test('reconnect backoff doubles from about 1 s and stops at 30 s', () => {
    expect(reconnectDelay(0, () => 1)).toBe(1000);
    expect(reconnectDelay(1, () => 1)).toBe(2000);
    expect(reconnectDelay(3, () => 0)).toBe(6400);
    expect(reconnectDelay(10, () => 1)).toBe(30000);
  });
});

describe('due dates of new tasks', () => {
  const now = new Date(2026, 10, 30, 16, 20, 30);

  test('presets: in an hour (whole minutes), tomorrow 10:00 and 15:00, in local time', () => {
    expect(formatDueInput(presetDue('inHour', now))).toBe('2026-11-30 17:20');
    expect(formatDueInput(presetDue('tomorrowMorning', now))).toBe('2026-12-01 10:00');
    expect(formatDueInput(presetDue('tomorrowAfternoon', now))).toBe('2026-12-01 15:00');
  });

  test('typed: a real date and time, not in the past', () => {
    expect(parseDueInput(' 2026-12-01 09:05 ', now)).toEqual(new Date(2026, 11, 1, 9, 5));
    expect(parseDueInput('2026-12-01T9:05', now)).toEqual(new Date(2026, 11, 1, 9, 5));
    expect(parseDueInput('2026-02-30 10:00', now)).toBeNull();
    expect(parseDueInput('2026-12-01 24:00', now)).toBeNull();
    expect(parseDueInput('01.12.2026 10:00', now)).toBeNull();
    expect(parseDueInput('2026-11-30 16:00', now)).toBeNull();
  });
});

describe('budget in the account currency', () => {
  test('grouped, no cents, the currency sign of the language; plain when unknown', () => {
    expect(formatMoney(3200000, 'uk-UA', 'UAH')).toMatch(/^3\s200\s000\s₴$/);
    expect(formatMoney(125000, 'en-GB', 'USD')).toBe('US$125,000');
    expect(formatMoney(125000, 'ru-RU', null)).toMatch(/^125\s000$/);
    expect(formatMoney(0, 'uk-UA', 'UAH')).toBeNull();
  });
});
