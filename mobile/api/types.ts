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
