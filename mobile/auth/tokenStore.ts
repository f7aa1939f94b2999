import * as SecureStore from 'expo-secure-store';
import { Platform } from 'react-native';

/**
 * Where our own session token (the backend's JWT, never an amoCRM token) lives.
 *
 * - iOS / Android: `expo-secure-store` (Keychain / Keystore-backed).
 * - Web: `sessionStorage`. Browsers have no secure enclave; sessionStorage is per tab, survives
 *   the same-tab round trip through amoCRM's consent page, and is gone when the tab closes,
 *   which keeps the token's exposure shorter than localStorage would.
 *
 * The token is also kept in memory so that every API call can read it synchronously.
 */
const TOKEN_KEY = 'foryou.session-token';

let cached: string | null = null;

function webStorage(): Storage | null {
  try {
    return typeof window !== 'undefined' && window.sessionStorage ? window.sessionStorage : null;
  } catch {
    // Storage can be disabled by the browser (privacy mode); the session then lasts one page.
    return null;
  }
}

export const tokenStore = {
  /** The token loaded or saved last, without touching storage. */
  current(): string | null {
    return cached;
  },

  async load(): Promise<string | null> {
    if (Platform.OS === 'web') {
      cached = webStorage()?.getItem(TOKEN_KEY) ?? null;
    } else {
      cached = await SecureStore.getItemAsync(TOKEN_KEY);
    }
    return cached;
  },

  async save(token: string): Promise<void> {
    cached = token;
    if (Platform.OS === 'web') {
      webStorage()?.setItem(TOKEN_KEY, token);
    } else {
      await SecureStore.setItemAsync(TOKEN_KEY, token);
    }
  },

  async clear(): Promise<void> {
    cached = null;
    if (Platform.OS === 'web') {
      webStorage()?.removeItem(TOKEN_KEY);
    } else {
      await SecureStore.deleteItemAsync(TOKEN_KEY);
    }
  },
};
