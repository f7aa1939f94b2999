import { fill, type Language, type Messages, pluralForm } from '@/i18n';

/** Locales for numbers and dates in each app language. */
export const LOCALES: Record<Language, string> = { uk: 'uk-UA', en: 'en-GB', ru: 'ru-RU' };

/** Up to two letters of a name for the avatar; `#` when the name has none. */
export function initials(name: string): string {
  const letters = name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0]?.toUpperCase() ?? '');
  return letters.join('') || '#';
}

/** A lead's price with digit grouping; nothing for an empty (null or zero) price. */
export function formatPrice(price: number | null | undefined, locale: string): string | null {
  if (price === null || price === undefined || price === 0) return null;
  return new Intl.NumberFormat(locale).format(price);
}

/** Date and time in the app language; the raw value if the platform cannot format it. */
export function formatDateTime(iso: string | null | undefined, locale: string): string | null {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat(locale, {
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
    }).format(date);
  } catch {
    return date.toISOString();
  }
}

/** "25 угод", or "25+ угод" when amoCRM has more pages (it gives no total). */
export function leadCount(t: Messages, language: Language, count: number, hasMore: boolean): string {
  if (hasMore) return fill(t.crm.leadCountMore, { n: count });
  return fill(t.crm.leadCount[pluralForm(language, count)], { n: count });
}

/** How the language writes the currency ("₴", "RUB", "$"); the code itself if the platform cannot say. */
export function currencySymbol(locale: string, currency: string): string {
  try {
    const parts = new Intl.NumberFormat(locale, { style: 'currency', currency }).formatToParts(0);
    return parts.find((part) => part.type === 'currency')?.value ?? currency;
  } catch {
    return currency;
  }
}

/**
 * A budget in the account's currency with the language's digit grouping ("3 200 000,00 ₴" →
 * without the cents: amoCRM budgets are whole); plain grouping when the currency is unknown.
 */
export function formatMoney(price: number | null | undefined, locale: string, currency: string | null): string | null {
  if (price === null || price === undefined || price === 0) return null;
  if (!currency) return formatPrice(price, locale);
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency, maximumFractionDigits: 0 }).format(price);
  } catch {
    // An unknown currency code: the number is still right.
    return `${formatPrice(price, locale)} ${currency}`;
  }
}

/**
 * The card's second line: the client's name, unless the lead's title already says it (a lead
 * created in the app is named after its client, and repeating it tells nothing new); `null`
 * means no line. A lead without a contact says so.
 */
export function contactLine(leadName: string, contactName: string | null, noContact: string): string | null {
  if (!contactName) return noContact;
  const fold = (text: string) => text.trim().toLocaleLowerCase();
  return fold(leadName).includes(fold(contactName)) ? null : contactName;
}
