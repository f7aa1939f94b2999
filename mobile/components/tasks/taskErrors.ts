import { isApiError } from '@/api/client';
import type { Messages } from '@/i18n';

/** A task write that failed, in words the broker can act on. */
export function taskErrorMessage(t: Messages, error: unknown): string {
  const texts = t.tasks.errors;
  if (!isApiError(error)) return texts.generic;
  if (error.code === 'amo_forbidden') return texts.amo_forbidden;
  if (error.code === 'task_not_found') return texts.task_not_found;
  if (error.code === 'network_error') return texts.network;
  if (error.status >= 500) return texts.upstream;
  return texts.generic;
}
