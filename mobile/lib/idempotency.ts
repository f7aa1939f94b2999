import { useCallback, useRef } from 'react';

/** A new key for one submit (`<prefix>-<uuid>`); reused only when the very same submit is retried. */
export function newIdempotencyKey(prefix: string): string {
  const cryptoApi = (globalThis as { crypto?: Crypto }).crypto;
  if (cryptoApi && typeof cryptoApi.randomUUID === 'function') return `${prefix}-${cryptoApi.randomUUID()}`;
  const bytes = new Uint8Array(16);
  if (cryptoApi && typeof cryptoApi.getRandomValues === 'function') {
    cryptoApi.getRandomValues(bytes);
  } else {
    // Uniqueness, not secrecy, is what the key needs; time plus randomness gives that here.
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  }
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${prefix}-${Date.now().toString(36)}-${hex}`;
}

/**
 * Sends a write with an `Idempotency-Key` made once per submit: retrying the same submit (same
 * body) after a failure sends the same key, so the backend finishes or returns the first attempt
 * instead of writing twice; a changed body gets a new key, and a success forgets the key.
 */
export function useIdempotentSubmit<Input, Result>(
  prefix: string,
  send: (input: Input, idempotencyKey: string) => Promise<Result>,
) {
  const attempt = useRef<{ key: string; body: string } | null>(null);

  const submit = useCallback(
    async (input: Input): Promise<Result> => {
      const body = JSON.stringify(input);
      if (attempt.current?.body !== body) attempt.current = { key: newIdempotencyKey(prefix), body };
      const result = await send(input, attempt.current.key);
      attempt.current = null;
      return result;
    },
    [prefix, send],
  );

  /** The backend refused this key for this body: the next submit starts afresh. */
  const forgetAttempt = useCallback(() => {
    attempt.current = null;
  }, []);

  return { submit, forgetAttempt, currentKey: () => attempt.current?.key ?? null };
}
