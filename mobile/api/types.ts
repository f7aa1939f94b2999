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
/** `POST /integrations/amo-crm/complete`: the ticket the backend's callback put in the return URL. */
export type CompleteConnectInput = Schemas['CompleteIn'];
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

/** Error codes of redeeming a return ticket (`POST /integrations/amo-crm/complete`). */
export const AMO_COMPLETE_ERROR_CODES = [
  'amo_ticket_invalid',
  'amo_ticket_expired',
  'amo_flow_not_yours',
  'amo_user_already_linked',
] as const;
export type AmoCompleteErrorCode = (typeof AMO_COMPLETE_ERROR_CODES)[number];

export function isAmoCompleteErrorCode(code: string): code is AmoCompleteErrorCode {
  return (AMO_COMPLETE_ERROR_CODES as readonly string[]).includes(code);
}

/** `/admin/*`: an app user's amoCRM connection as the agency's admin sees it. */
export type Broker = Schemas['BrokerOut'];
export type BrokerState = Broker['state'];
export const BROKER_STATES: readonly BrokerState[] = [
  'active',
  'reauth_required',
  'revoked',
  'disconnected',
  'never_connected',
];
export type BrokerEvent = Schemas['EventOut'];
export type AgencyConnection = Schemas['AgencyOut'];
export type AgencyHealth = AgencyConnection['health'];
export type AgencyTokenInput = Schemas['AgencyTokenIn'];
export type AdminUser = Schemas['AdminUserOut'];
export type AdminUserStatus = AdminUser['status'];
export type CreateUserInput = Schemas['CreateUserIn'];
export type CreatedUser = Schemas['CreatedUserOut'];
/** A page of an admin list: `total` is exact, unlike amoCRM's lead pages. */
export type AdminPage<T> = { items: T[]; page: number; limit: number; total: number; hasMore: boolean };

/** Refusals of `POST /admin/amo-crm/agency-connection` and `…/use-my-connection` the form explains. */
export const AGENCY_ERROR_CODES = [
  'agency_domain_invalid',
  'agency_token_invalid',
  'agency_token_wrong_account',
  'agency_token_not_admin',
  'agency_connection_unusable',
  'amo_account_not_allowed',
  'amo_upstream_error',
  'amo_upstream_unavailable',
  'amo_upstream_timeout',
  'amo_not_configured',
] as const;
export type AgencyErrorCode = (typeof AGENCY_ERROR_CODES)[number];

export function isAgencyErrorCode(code: string): code is AgencyErrorCode {
  return (AGENCY_ERROR_CODES as readonly string[]).includes(code);
}

/**
 * `GET /crm/pipelines`: the pipelines, and the account's currency (ISO 4217, e.g. `RUB`; null
 * when amoCRM names none, and then budgets are plain grouped numbers).
 */
export type PipelineList = Schemas['PipelineList'];

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
