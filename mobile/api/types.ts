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

/*
 * The broker's working day (lead edits, notes, tasks, live updates). Written by hand until the
 * backend's OpenAPI document describes these endpoints; the names stay when they switch to the
 * generated schemas.
 */

/** amoCRM's stage kinds; `unsorted` is the incoming stage a lead can never be moved into. */
export type StageType = Stage['type'] | 'unsorted';

/** `GET /crm/pipelines` answers the pipelines and the account's currency (ISO 4217, e.g. `UAH`). */
export type PipelineList = { items: Pipeline[]; currency?: string | null };

/** `PATCH /crm/leads/{id}`: at least one field; a stage move sends pipeline and stage together. */
export type LeadChange = { statusId?: number; pipelineId?: number; price?: number | null; name?: string };

/** `POST /crm/leads/{id}/notes` answers the note amoCRM stored. */
export type Note = { id: number; text: string; createdAt: string; createdBy: { id: number; name: string | null } };

export type TaskType = 'call' | 'meeting' | 'other';

export type Task = {
  id: number;
  text: string;
  type: TaskType;
  typeId: number;
  typeName: string | null;
  dueAt: string;
  isCompleted: boolean;
  lead: { id: number; name: string } | null;
  /** The lead's main contact, for tap-to-call on a call task. */
  contact: { name: string; phone: string | null } | null;
};

/** `GET /crm/tasks`: the broker's own open tasks, "today" by the account's time zone. */
export type TaskBoard = {
  overdue: Task[];
  today: Task[];
  upcoming: Task[];
  counts: { overdue: number; today: number; upcoming: number };
};

export type NewTaskInput = { leadId: number; type: 'call' | 'meeting'; text?: string; dueAt: string };

/** `POST /events/stream-ticket`: a single-use pass for `GET /events/stream?ticket=…` (60 s). */
export type StreamTicket = { ticket: string; expiresAt: string };

/** What the live stream says (the `data` of each event); the app re-reads the endpoints either way. */
export type LiveEvent =
  | { type: 'lead.changed'; leadId: number }
  | { type: 'lead.assigned'; leadId: number; name: string }
  | { type: 'task.changed'; taskId: number }
  | { type: 'crm.invalidated' }
  | { type: 'reset' };
