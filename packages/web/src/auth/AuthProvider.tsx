import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ROLE_SCOPES, type Scope } from '@aim/protocol';
import * as session from '../api/session.js';
import type { User } from '../api/types.js';

/** `unavailable`: after a reload the server could not be reached, so whether the session lives is not known yet. */
type Status = 'loading' | 'signed-in' | 'signed-out' | 'unavailable';

interface AuthState {
  status: Status;
  user: User | null;
  login: (email: string, password: string, totpCode?: string) => Promise<User>;
  logout: () => Promise<void>;
  can: (scope: Scope) => boolean;
  /** Asks the server again after `unavailable` (a scheduled renewal also keeps trying). */
  retry: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [user, setUser] = useState<User | null>(session.sessionUser());
  const [status, setStatus] = useState<Status>(user ? 'signed-in' : 'loading');

  useEffect(() => {
    const stop = session.onSessionChange((next) => {
      setUser(next);
      setStatus(next ? 'signed-in' : 'signed-out');
      if (!next) queryClient.clear();
    });
    // After a reload the access token is gone; the HttpOnly cookie brings the session back. A server that cannot be
    // reached says nothing about the session: the person is not sent to sign in again for an outage.
    if (!session.sessionUser()) {
      if (session.hasSessionCookie()) void session.renew().then((ok) => !ok && setStatus(session.serverUnreachable() ? 'unavailable' : 'signed-out'));
      else setStatus('signed-out');
    }
    const wake = () => document.visibilityState === 'visible' && session.renewIfStale();
    document.addEventListener('visibilitychange', wake);
    return () => {
      stop();
      document.removeEventListener('visibilitychange', wake);
    };
  }, [queryClient]);

  const login = useCallback((email: string, password: string, totpCode?: string) => session.login(email, password, totpCode), []);
  const logout = useCallback(() => session.logout(), []);
  const can = useCallback((scope: Scope) => (user ? ROLE_SCOPES[user.role].includes(scope) : false), [user]);
  const retry = useCallback(async () => {
    const ok = await session.renew();
    if (!ok) setStatus(session.serverUnreachable() ? 'unavailable' : 'signed-out');
  }, []);
  const value = useMemo(() => ({ status, user, login, logout, can, retry }), [status, user, login, logout, can, retry]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}
