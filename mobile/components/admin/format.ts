import type { Messages } from '@/i18n';

/** Why a connection stopped, in the words the broker's own CRM tab uses; the raw code otherwise. */
export function reasonText(t: Messages, reason: string | null): string | null {
  if (!reason) return null;
  const reasons = t.amo.reauthReasons;
  return reason in reasons ? reasons[reason as keyof typeof reasons] : reason;
}

/** The broker's amoCRM user: the name from the agency's users catalogue, else the id. */
export function amoUserText(t: Messages, name: string | null, id: number | null): string | null {
  if (name) return name;
  if (id !== null) return t.admin.brokers.amoUserId.replace('{id}', String(id));
  return null;
}

/** A day without the time: a long-lived token expires at 00:00 UTC, which a time would only blur. */
export function formatDay(iso: string | null | undefined, locale: string): string | null {
  if (!iso) return null;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}
