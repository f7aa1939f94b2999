import Constants from 'expo-constants';
import { Platform } from 'react-native';

/**
 * Runtime configuration of the app.
 *
 * The API URL is resolved in this order:
 * 1. on the web, `window.__FORYOU_RUNTIME_CONFIG__.apiUrl` — injected into index.html by the
 *    server that hosts the web build, so one build runs against any backend;
 * 2. `EXPO_PUBLIC_API_URL`, inlined at build time;
 * 3. the demo default `http://127.0.0.1:8000/api/v1`.
 */
export type AppConfig = {
  apiUrl: string;
  /** Custom scheme of the native return URL, e.g. `foryouapp`. */
  scheme: string;
  /** Variant B: connect amoCRM inside an in-app WebView instead of the system browser. */
  amoAuthInWebView: boolean;
};

type RuntimeConfig = { apiUrl?: unknown };

const DEFAULT_API_URL = 'http://127.0.0.1:8000/api/v1';

function webRuntimeConfig(): RuntimeConfig {
  if (Platform.OS !== 'web' || typeof window === 'undefined') return {};
  const injected = (window as unknown as { __FORYOU_RUNTIME_CONFIG__?: RuntimeConfig })
    .__FORYOU_RUNTIME_CONFIG__;
  return injected ?? {};
}

function readApiUrl(): string {
  const runtime = webRuntimeConfig().apiUrl;
  const raw =
    (typeof runtime === 'string' && runtime) || process.env.EXPO_PUBLIC_API_URL || DEFAULT_API_URL;
  return raw.replace(/\/+$/, '');
}

function readScheme(): string {
  const fromManifest = (Constants.expoConfig?.extra as { scheme?: unknown } | undefined)?.scheme;
  return typeof fromManifest === 'string' && fromManifest ? fromManifest : 'foryouapp';
}

export function loadConfig(): AppConfig {
  return {
    apiUrl: readApiUrl(),
    scheme: readScheme(),
    amoAuthInWebView: process.env.EXPO_PUBLIC_AMO_AUTH_WEBVIEW === '1',
  };
}

export const config: AppConfig = loadConfig();

/** Where the backend sends the browser back after amoCRM (native): `<scheme>://amo-crm/callback`. */
export function nativeReturnUrl(scheme: string = config.scheme): string {
  return `${scheme}://amo-crm/callback`;
}
