type SignOutListener = () => void;

const signOutListeners = new Set<SignOutListener>();

/**
 * Runs `listener` each time the session ends on this device. Features that keep per-person
 * state outside the query cache clear it here, so the session needs to know none of them.
 */
export function onSignOut(listener: SignOutListener): () => void {
  signOutListeners.add(listener);
  return () => signOutListeners.delete(listener);
}

/** Called by the session once the token and the query cache are gone. */
export function notifySignedOut(): void {
  for (const listener of signOutListeners) listener();
}
