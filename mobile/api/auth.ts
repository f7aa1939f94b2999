import { apiRequest } from './client';
import type { LoginResult, User } from './types';

export function login(email: string, password: string): Promise<LoginResult> {
  return apiRequest<LoginResult>('/auth/login', {
    method: 'POST',
    body: { email, password },
    authenticated: false,
  });
}

export function getMe(): Promise<User> {
  return apiRequest<User>('/auth/me');
}
