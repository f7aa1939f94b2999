import { useCallback } from 'react';

import { useCreateLead } from '@/api/crm';
import type { NewLeadInput } from '@/api/types';
import { useIdempotentSubmit } from '@/lib/idempotency';

/**
 * Sends a new lead with an `Idempotency-Key` made once per submit: retrying the same submit
 * (same body) after a failure sends the same key, so the backend finishes the first attempt
 * instead of creating a second lead; a changed form gets a new key.
 */
export function useSubmitLead() {
  const mutation = useCreateLead();
  const { mutateAsync } = mutation;
  const send = useCallback(
    (input: NewLeadInput, idempotencyKey: string) => mutateAsync({ input, idempotencyKey }),
    [mutateAsync],
  );
  return { ...useIdempotentSubmit('lead', send), isSubmitting: mutation.isPending };
}
