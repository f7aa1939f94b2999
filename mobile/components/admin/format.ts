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
