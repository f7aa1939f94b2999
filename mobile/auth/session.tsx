import { useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  type PropsWithChildren,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from 'react';

import { getMe, login } from '@/api/auth';
import { isApiError, onUnauthorized, setTokenSource } from '@/api/client';
import type { User, UserRole } from '@/api/types';

import { notifySignedOut } from './signOutEvents';
import { tokenStore } from './tokenStore';

export type Session =
  | { status: 'loading'; user: null }
  | { status: 'signedOut'; user: null }
  | { status: 'signedIn'; user: User };

type SessionContextValue = {
  session: Session;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
};

const SessionContext = createContext<SessionContextValue | null>(null);

setTokenSource(() => tokenStore.current());

/** Roles that may use the CRM tab (the backend answers 403 `forbidden` for the others). */
const CRM_ROLES: readonly UserRole[] = ['BROKER', 'ADMIN'];

export function canUseCrm(user: User | null): boolean {
  return user !== null && CRM_ROLES.includes(user.role);
}

/** The agency's admin console is for ADMIN only (the backend answers 403 `forbidden` to others). */
export function isAdmin(user: User | null): boolean {
  return user?.role === 'ADMIN';
}

export function SessionProvider({ children }: PropsWithChildren) {
  const queryClient = useQueryClient();
  const [session, setSession] = useState<Session>({ status: 'loading', user: null });

  const signOut = useCallback(async () => {
    await tokenStore.clear();
    queryClient.clear();
    // The next person on this device starts clean in every feature that keeps its own state.
    notifySignedOut();
    setSession({ status: 'signedOut', user: null });
  }, [queryClient]);

  // Restore a saved session; a token the backend no longer accepts means signed out.
  useEffect(() => {
    let active = true;
    (async () => {
      const token = await tokenStore.load();
      if (!token) {
        if (active) setSession({ status: 'signedOut', user: null });
        return;
      }
      try {
        const user = await getMe();
        if (active) setSession({ status: 'signedIn', user });
      } catch (error) {
        if (isApiError(error) && error.isUnauthorized) await tokenStore.clear();
        if (active) setSession({ status: 'signedOut', user: null });
      }
    })();
    return () => {
      active = false;
    };
  }, []);

  useEffect(() => onUnauthorized(() => void signOut()), [signOut]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const result = await login(email, password);
      await tokenStore.save(result.accessToken);
      queryClient.clear();
      setSession({ status: 'signedIn', user: result.user });
    },
    [queryClient],
  );

  const value = useMemo(() => ({ session, signIn, signOut }), [session, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession must be used inside <SessionProvider>');
  return value;
}
