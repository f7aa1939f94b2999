import { ApiError } from '@/api/client';
import {
  describeSubmitFailure,
  emptyLeadForm,
  normalisePhone,
  parsePrice,
  validateLeadForm,
} from '@/components/crm/newLeadForm';
import { dictionaries } from '@/i18n';
import { newIdempotencyKey } from '@/lib/idempotency';

const t = dictionaries.uk;

describe('new lead form validation', () => {
  test('at least one of name, phone, e-mail', () => {
    expect(validateLeadForm(emptyLeadForm).errors).toEqual({ contact: 'needContact' });
    expect(validateLeadForm({ ...emptyLeadForm, comment: 'only a comment', price: '10' }).errors.contact).toBe('needContact');
    expect(validateLeadForm({ ...emptyLeadForm, email: 'a@b.ua' }).errors).toEqual({});
  });

  test('phones: separators allowed, 7 to 15 digits, 00 means +', () => {
    expect(normalisePhone('+38 (050) 123-45-67')).toBe('+380501234567');
    expect(normalisePhone('0038 050 123 45 67')).toBe('+380501234567');
    expect(normalisePhone('050.123.45.67')).toBe('0501234567');
    expect(normalisePhone('12345')).toBeNull();
    expect(normalisePhone('+1234567890123456')).toBeNull();
    expect(normalisePhone('050-abc-45-67')).toBeNull();
    expect(validateLeadForm({ ...emptyLeadForm, phone: '12' }).errors).toEqual({ phone: 'phone' });
  });

  test('e-mail format', () => {
    expect(validateLeadForm({ ...emptyLeadForm, email: 'ivan@example' }).errors).toEqual({ email: 'email' });
    expect(validateLeadForm({ ...emptyLeadForm, email: 'ivan example.com' }).errors).toEqual({ email: 'email' });
    expect(validateLeadForm({ ...emptyLeadForm, email: 'ivan@example.com' }).errors).toEqual({});
  });

  test('price: a whole non-negative number, thousands may be spaced', () => {
    expect(parsePrice('125 000')).toBe(125000);
    expect(parsePrice('0')).toBe(0);
    expect(parsePrice('-5')).toBeNull();
    expect(parsePrice('12.5')).toBeNull();
    expect(parsePrice('abc')).toBeNull();
    expect(parsePrice('2147483648')).toBeNull();
    expect(validateLeadForm({ ...emptyLeadForm, name: 'Іван', price: '-1' }).errors).toEqual({ price: 'price' });
  });

  test('sends trimmed values and leaves empty ones out', () => {
    const { lead } = validateLeadForm({ name: '  Іван  ', phone: '', email: ' ', price: '125 000', comment: ' дзвінок ' });
    expect(lead).toEqual({ name: 'Іван', price: 125000, comment: 'дзвінок' });
  });
});

describe('idempotency keys', () => {
  test('every key is new and matches the backend’s format', () => {
    const keys = new Set(Array.from({ length: 50 }, () => newIdempotencyKey('lead')));
    expect(keys.size).toBe(50);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_.:-]{8,100}$/);
  });
});

describe('server errors of a new lead', () => {
  test('a partial failure says what was saved and what was not, and can be retried', () => {
    const error = new ApiError(502, 'amo_partial_failure', 'partial', 'r', null, [
      { step: 'contact', status: 'created', id: 1 },
      { step: 'lead', status: 'created', id: 2 },
      { step: 'note', status: 'failed', error: 'amo_upstream_error' },
      { step: 'task', status: 'pending' },
    ]);
    const failure = describeSubmitFailure(t, error);
    expect(failure.message).toBe(
      'amoCRM зберіг угоду лише частково. Збережено: контакт, угода. Не збережено: коментар, завдання «Зателефонувати клієнту». Натисніть «Спробувати ще раз» — збережене не буде продубльовано.',
    );
    expect(failure).toMatchObject({ retryable: true, dropKey: false });
  });

  test('in progress: wait Retry-After, then retry with the same key', () => {
    expect(describeSubmitFailure(t, new ApiError(409, 'idempotency_in_progress', 'x', 'r', 30))).toMatchObject({
      retryable: true,
      dropKey: false,
      retryAfter: 30,
      message: t.crm.create.server.inProgress,
    });
    expect(describeSubmitFailure(t, new ApiError(422, 'idempotency_key_reused', 'x', 'r', 30)).retryAfter).toBeNull();
  });

  test('a reused key is dropped', () => {
    expect(describeSubmitFailure(t, new ApiError(422, 'idempotency_key_reused', 'x'))).toMatchObject({ dropKey: true });
  });

  test('validation details land on their fields', () => {
    const failure = describeSubmitFailure(
      t,
      new ApiError(422, 'validation_error', 'x', 'r', null, [{ field: 'phone', message: 'bad' }, { field: 'email', message: 'bad' }]),
    );
    expect(failure.fields).toEqual({ phone: 'phone', email: 'email' });
    expect(failure.message).toBe(t.crm.create.server.validation);
    const gone = describeSubmitFailure(t, new ApiError(422, 'validation_error', 'x', 'r', null, [{ field: 'stageId', message: 'unknown' }]));
    expect(gone.message).toBe(t.crm.create.server.stageGone);
  });

  test('upstream trouble and lost connections promise no duplicate', () => {
    expect(describeSubmitFailure(t, new ApiError(504, 'amo_upstream_timeout', 'x')).message).toBe(t.crm.create.server.upstream);
    expect(describeSubmitFailure(t, new ApiError(0, 'network_error', 'x')).message).toBe(t.crm.create.server.network);
    expect(describeSubmitFailure(t, new ApiError(403, 'amo_forbidden', 'x'))).toMatchObject({ retryable: false });
  });
});
