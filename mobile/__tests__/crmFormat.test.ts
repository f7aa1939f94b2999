import { contactLine, currencySymbol, formatPrice, initials, leadCount } from '@/components/crm/format';
import { dictionaries, pluralForm } from '@/i18n';

describe('lead count line', () => {
  test('Ukrainian and Russian plural forms', () => {
    expect([1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 111, 101].map((n) => pluralForm('uk', n))).toEqual([
      'one', 'few', 'few', 'many', 'many', 'many', 'many', 'one', 'few', 'many', 'many', 'one',
    ]);
    expect(pluralForm('ru', 3)).toBe('few');
    expect(pluralForm('en', 1)).toBe('one');
    expect(pluralForm('en', 2)).toBe('many');
  });

  test('"N leads" when the list is complete, "N+" when amoCRM has more pages', () => {
    expect(leadCount(dictionaries.uk, 'uk', 1, false)).toBe('1 угода');
    expect(leadCount(dictionaries.uk, 'uk', 3, false)).toBe('3 угоди');
    expect(leadCount(dictionaries.uk, 'uk', 25, true)).toBe('25+ угод');
    expect(leadCount(dictionaries.en, 'en', 1, false)).toBe('1 lead');
    expect(leadCount(dictionaries.en, 'en', 50, true)).toBe('50+ leads');
    expect(leadCount(dictionaries.ru, 'ru', 5, false)).toBe('5 сделок');
  });
});

describe('lead card text', () => {
  test('initials of up to two words, # when there are none', () => {
    expect(initials('Квартира на Подолі')).toBe('КН');
    expect(initials('іван')).toBe('І');
    expect(initials('   ')).toBe('#');
  });

  test('price grouped by the app language; empty prices show nothing', () => {
    expect(formatPrice(3200000, 'en-GB')).toBe('3,200,000');
    expect(formatPrice(0, 'uk-UA')).toBeNull();
    expect(formatPrice(null, 'uk-UA')).toBeNull();
  });

  test("a currency as the language writes it; the code when the platform does not know it", () => {
    expect(currencySymbol('uk-UA', 'UAH')).toBe('₴');
    expect(currencySymbol('ru-RU', 'RUB')).toBe('₽');
    expect(currencySymbol('en-GB', 'RUB')).toBe('RUB');
    expect(currencySymbol('en-GB', 'not-a-code')).toBe('not-a-code');
  });
});

describe('the lead card contact line', () => {
  test('names the client only when the title does not already', () => {
    expect(contactLine('Коммерция, Митино — Васильев', 'Наталья Васильев', '-')).toBe('Наталья Васильев');
    expect(contactLine('E2E Клієнт 4096c4', 'E2E Клієнт 4096c4', '-')).toBeNull();
    expect(contactLine('Квартира — Олена Петренко', ' олена петренко ', '-')).toBeNull();
  });

  test('a lead without a contact says so', () => {
    expect(contactLine('Офіс на Подолі', null, 'Без контакту')).toBe('Без контакту');
  });
});
