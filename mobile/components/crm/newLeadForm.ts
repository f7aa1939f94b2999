import { type ApiError, isApiError } from '@/api/client';
import type { NewLeadInput } from '@/api/types';
import { fill, type Messages } from '@/i18n';

/** What the broker typed, as typed. */
export type LeadFormValues = { name: string; phone: string; email: string; price: string; comment: string };
export type LeadFormField = keyof LeadFormValues;

export const emptyLeadForm: LeadFormValues = { name: '', phone: '', email: '', price: '', comment: '' };

type InvalidReason = keyof Messages['crm']['create']['invalid'];
export type LeadFormErrors = Partial<Record<LeadFormField, InvalidReason>> & { contact?: 'needContact' };

/** Limits the backend enforces (docs/api.md, `POST /crm/leads`), checked before sending. */
const MAX = { name: 255, phone: 40, email: 254, comment: 10_000 };
const MAX_PRICE = 2_147_483_647;

/** The backend's phone rule: separators dropped, a leading 00 becomes +, then 7–15 digits. */
export function normalisePhone(raw: string): string | null {
  let phone = raw.replace(/[\s().\-/]/g, '');
  if (phone.startsWith('00')) phone = `+${phone.slice(2)}`;
  return /^\+?\d{7,15}$/.test(phone) ? phone : null;
}

export function isValidEmail(raw: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$/.test(raw) && raw.length <= MAX.email;
}

/** A whole, non-negative number; spaces between thousands are fine ("125 000"). */
export function parsePrice(raw: string): number | null {
  const digits = raw.replace(/[\s\u00a0\u202f]/g, '');
  if (!/^\d+$/.test(digits)) return null;
  const price = Number(digits);
  return price <= MAX_PRICE ? price : null;
}

export type ValidatedLead = Omit<NewLeadInput, 'pipelineId' | 'stageId'>;

/** Checks the form; returns the body fields to send, or what is wrong with which field. */
export function validateLeadForm(values: LeadFormValues): { errors: LeadFormErrors; lead: ValidatedLead | null } {
  const errors: LeadFormErrors = {};
  const name = values.name.trim();
  const phone = values.phone.trim();
  const email = values.email.trim();
  const price = values.price.trim();
  const comment = values.comment.trim();

  if (!name && !phone && !email) errors.contact = 'needContact';
  if (name.length > MAX.name) errors.name = 'tooLong';
  if (phone && (phone.length > MAX.phone || normalisePhone(phone) === null)) errors.phone = 'phone';
  if (email && !isValidEmail(email)) errors.email = 'email';
  if (price && parsePrice(price) === null) errors.price = 'price';
  if (comment.length > MAX.comment) errors.comment = 'tooLong';
  if (Object.keys(errors).length > 0) return { errors, lead: null };

  const lead: ValidatedLead = {};
  if (name) lead.name = name;
  if (phone) lead.phone = phone;
  if (email) lead.email = email;
  if (price) lead.price = parsePrice(price);
  if (comment) lead.comment = comment;
  return { errors, lead };
}

type Step = { step?: unknown; status?: unknown };
const STEPS = ['contact', 'lead', 'note', 'task'] as const;
type StepName = (typeof STEPS)[number];

function isStepName(value: unknown): value is StepName {
  return typeof value === 'string' && (STEPS as readonly string[]).includes(value);
}

/** "Saved: the contact, the lead. Not saved: the comment, the task" from the failure's steps. */
function partialFailureText(t: Messages, details: readonly Step[]): string {
  const texts = t.crm.create.server;
  const named = (status: (s: unknown) => boolean) =>
    details
      .filter((detail) => isStepName(detail.step) && status(detail.status))
      .map((detail) => texts.steps[detail.step as StepName]);
  const done = named((status) => status === 'created');
  const missing = named((status) => status === 'failed' || status === 'pending');
  return fill(texts.partial, {
    done: done.join(', ') || texts.nothing,
    missing: missing.join(', ') || texts.nothing,
  });
}

export type SubmitFailure = {
  message: string;
  /** Field problems the backend reported (422). */
  fields: LeadFormErrors;
  /** Whether retrying the same submit with the same key makes sense. */
  retryable: boolean;
  /** The key must not be offered again (the backend refused it for this body). */
  dropKey: boolean;
  /** Seconds before a retry can succeed (`Retry-After`, e.g. while amoCRM may still be writing). */
  retryAfter: number | null;
};

const FORM_FIELDS: readonly LeadFormField[] = ['name', 'phone', 'email', 'price', 'comment'];

function fieldReason(field: LeadFormField): InvalidReason {
  return field === 'phone' || field === 'email' || field === 'price' ? field : 'field';
}

/** Turns a failed `POST /crm/leads` into what the broker reads and can do next. */
export function describeSubmitFailure(t: Messages, error: unknown): SubmitFailure {
  const texts = t.crm.create.server;
  const result = (message: string, retryable: boolean, extra: Partial<SubmitFailure> = {}): SubmitFailure => ({
    message,
    fields: {},
    retryable,
    dropKey: false,
    retryAfter: retryable && isApiError(error) && error.retryAfter && error.retryAfter > 0 ? error.retryAfter : null,
    ...extra,
  });
  if (!isApiError(error)) return result(texts.generic, true);
  const apiError: ApiError = error;
  switch (apiError.code) {
    case 'amo_partial_failure':
      return result(partialFailureText(t, apiError.details as Step[]), true);
    case 'idempotency_in_progress':
      return result(texts.inProgress, true);
    case 'idempotency_key_reused':
      return result(texts.keyReused, false, { dropKey: true });
    case 'amo_upstream_error':
    case 'amo_upstream_unavailable':
    case 'amo_upstream_timeout':
      return result(texts.upstream, true);
    case 'network_error':
      return result(texts.network, true);
    case 'amo_forbidden':
      return result(texts.forbidden, false);
    case 'validation_error': {
      const fields: LeadFormErrors = {};
      let stageGone = false;
      for (const detail of apiError.details) {
        const field = detail.field;
        if (field === 'pipelineId' || field === 'stageId') stageGone = true;
        else if (field === 'body') fields.contact = 'needContact';
        else if (typeof field === 'string' && (FORM_FIELDS as readonly string[]).includes(field)) {
          fields[field as LeadFormField] = fieldReason(field as LeadFormField);
        }
      }
      return result(stageGone ? texts.stageGone : texts.validation, false, { fields, dropKey: true });
    }
    default:
      return result(apiError.status >= 500 || apiError.status === 0 ? texts.upstream : texts.generic, apiError.status >= 500);
  }
}
