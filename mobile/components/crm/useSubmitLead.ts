import { useCallback, useRef } from 'react';

import { useCreateLead } from '@/api/crm';
import type { CreatedLead, NewLeadInput } from '@/api/types';

import { newIdempotencyKey } from './newLeadForm';

/**
 * Sends a new lead with an `Idempotency-Key` made once per submit: retrying the same submit
 * (same body) after a failure sends the same key, so the backend finishes the first attempt
 * instead of creating a second lead; a changed form gets a new key.
 */
export function useSubmitLead() {
  const mutation = useCreateLead();
  const attempt = useRef<{ key: string; body: string } | null>(null);
  const { mutateAsync } = mutation;

  const submit = useCallback(
    async (input: NewLeadInput): Promise<CreatedLead> => {
      const body = JSON.stringify(input);
      if (attempt.current?.body !== body) attempt.current = { key: newIdempotencyKey(), body };
      const created = await mutateAsync({ input, idempotencyKey: attempt.current.key });
      attempt.current = null;
      return created;
    },
    [mutateAsync],
  );

  /** The backend refused this key for this body: the next submit starts afresh. */
  const forgetAttempt = useCallback(() => {
    attempt.current = null;
  }, []);

  return { submit, forgetAttempt, isSubmitting: mutation.isPending, currentKey: () => attempt.current?.key ?? null };
}
