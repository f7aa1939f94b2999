/**
 * Wire types of the backend API (`/api/v1`), named for the app. They alias the types generated
 * from the backend's OpenAPI document (`api/schema.d.ts`, see `npm run openapi:generate`), so a
 * change on the backend shows up here as a type error.
 */
import type { components } from './schema';

type Schemas = components['schemas'];

export type User = Schemas['UserOut'];
export type UserRole = User['role'];
export type LoginResult = Schemas['LoginOut'];
export type ConnectionStatus = Schemas['StatusOut'];
export type ConnectionState = ConnectionStatus['state'];
export type AuthorizeResult = Schemas['AuthorizeOut'];
export type AuthorizeClient = NonNullable<Schemas['AuthorizeIn']['client']>;
export type ExchangeCodeInput = Schemas['ExchangeCodeIn'];
export type Lead = Schemas['LeadSummaryOut'];
export type LeadPage = Schemas['LeadPageOut'];
export type Pipeline = Schemas['PipelineOut'];
export type Stage = Schemas['StageOut'];
export type LeadDetail = Schemas['LeadDetailOut'];
export type LeadContact = Schemas['LeadContactOut'];
export type CustomField = Schemas['CustomFieldOut'];
export type LeadTag = Schemas['TagOut'];
export type TimelineEntry = Schemas['TimelineEntryOut'];
export type NewLeadInput = Schemas['NewLeadIn'];
export type CreatedLead = Schemas['CreatedLeadOut'];

/** Error codes the backend's amoCRM callback sends back to the app (`?status=error&code=…`). */
export const AMO_RETURN_ERROR_CODES = [
  'amo_access_denied',
  'amo_state_invalid',
  'amo_state_expired',
  'amo_binder_mismatch',
  'amo_referer_invalid',
  'amo_account_not_allowed',
  'amo_code_invalid',
  'amo_exchange_failed',
  'amo_upstream_timeout',
  'amo_upstream_unavailable',
] as const;
export type AmoReturnErrorCode = (typeof AMO_RETURN_ERROR_CODES)[number];

export function isAmoReturnErrorCode(code: string): code is AmoReturnErrorCode {
  return (AMO_RETURN_ERROR_CODES as readonly string[]).includes(code);
}

/** amoCRM's stage kinds. `unsorted` (amoCRM's incoming «Неразобранное») is never a target of a
 * move; the backend refuses it with `stage_not_allowed` and may mark it with this type. */
export type StageType = Stage['type'] | 'unsorted';

/**
 * `GET /crm/pipelines`: the pipelines, and the account's currency (ISO 4217, e.g. `UAH`) for
 * budgets once the backend sends it; without it budgets are plain grouped numbers.
 */
export type PipelineList = Schemas['PipelineList'] & { currency?: string | null };

/** `PATCH /crm/leads/{id}`: at least one field; a stage move sends pipeline and stage together. */
export type LeadChange = Schemas['LeadPatchIn'];
export type Note = Schemas['NoteOut'];
export type Task = Schemas['TaskOut'];
export type TaskType = Task['type'];
/** `GET /crm/tasks`: the broker's own open tasks, "today" by the account's time zone. */
export type TaskBoard = Schemas['TaskBoardOut'];
export type NewTaskInput = Schemas['NewTaskIn'];
/** `POST /events/stream-ticket`: a single-use pass for `GET /events/stream?ticket=…` (60 s). */
export type StreamTicket = Schemas['StreamTicketOut'];

/** What the live stream says (the `data` of each event); the app re-reads the endpoints either way. */
export type LiveEvent =
  | { type: 'lead.changed'; leadId: number }
  | { type: 'lead.assigned'; leadId: number; name: string }
  | { type: 'task.changed'; taskId: number }
  | { type: 'crm.invalidated' }
  | { type: 'reset' };
