import { isApiError } from '@/api/client';
import type { Messages } from '@/i18n';

/** Why a change of the lead (stage, budget) was refused and undone, per the backend's code. */
export function leadEditErrorMessage(t: Messages, error: unknown): string {
  const texts = t.crm.lead.edit.errors;
  if (!isApiError(error)) return texts.generic;
  switch (error.code) {
    case 'amo_forbidden':
      return texts.amo_forbidden;
    case 'stage_not_allowed':
      return texts.stage_not_allowed;
    case 'lead_not_found':
    case 'not_found':
      return texts.lead_not_found;
    case 'invalid_request':
    case 'validation_error':
      return texts.invalid;
    case 'network_error':
      return texts.network;
    default:
      return error.status >= 500 ? texts.upstream : texts.generic;
  }
}

/** Why a note was not added; a retry sends the same key, so it says the note will not double. */
export function noteErrorMessage(t: Messages, error: unknown): string {
  const texts = t.crm.lead.edit;
  if (!isApiError(error)) return texts.errors.generic;
  if (error.code === 'idempotency_in_progress') return texts.noteErrors.inProgress;
  if (error.code === 'network_error') return texts.noteErrors.network;
  if (error.status >= 500) return texts.noteErrors.upstream;
  return leadEditErrorMessage(t, error);
}
