import * as WebBrowser from 'expo-web-browser';
import { useCallback, useState } from 'react';
import { Platform } from 'react-native';

import { useAuthorize } from '@/api/amo-crm';
import { config, nativeReturnUrl } from '@/config';

import { connectNotice } from './connectNotice';
import { parseReturnUrl } from './returnUrl';
import { useAmoCrmReturn } from './useAmoCrmReturn';

export type ConnectMode = 'auth-session' | 'web-redirect' | 'webview';

export function connectMode(
  platform: string = Platform.OS,
  inWebView: boolean = config.amoAuthInWebView,
): ConnectMode {
  if (platform === 'web') return 'web-redirect';
  return inWebView ? 'webview' : 'auth-session';
}

/** Sends this window to the backend's flow start; the backend brings it back to `/amo-crm/callback`. */
function navigateWindow(url: string): void {
  window.location.assign(url);
}

/**
 * Connecting amoCRM:
 * - native: `WebBrowser.openAuthSessionAsync(authorizeUrl, <scheme>://amo-crm/callback)`;
 *   the result is handled here, and the callback route handles the same return idempotently;
 * - web: the window itself goes to the authorize URL (client `web`) and comes back to the web
 *   app's `/amo-crm/callback`;
 * - variant B (setting `EXPO_PUBLIC_AMO_AUTH_WEBVIEW=1`, native only): an in-app WebView.
 */
export function useAmoCrmConnect({
  mode = connectMode(),
  navigate = navigateWindow,
}: { mode?: ConnectMode; navigate?: (url: string) => void } = {}) {
  const authorizeMutation = useAuthorize();
  const { handle, refreshStatus } = useAmoCrmReturn();
  const [webViewUrl, setWebViewUrl] = useState<string | null>(null);
  const [browserOpen, setBrowserOpen] = useState(false);

  const connect = useCallback(async () => {
    connectNotice.clear();
    let authorizeUrl: string;
    try {
      const result = await authorizeMutation.mutateAsync(mode === 'web-redirect' ? 'web' : 'native');
      authorizeUrl = result.authorizeUrl;
    } catch {
      return; // shown from authorizeMutation.error
    }

    if (mode === 'web-redirect') {
      navigate(authorizeUrl);
      return;
    }
    if (mode === 'webview') {
      setWebViewUrl(authorizeUrl);
      return;
    }

    setBrowserOpen(true);
    try {
      const result = await WebBrowser.openAuthSessionAsync(authorizeUrl, nativeReturnUrl());
      if (result.type === 'success') {
        await handle(parseReturnUrl(result.url));
      } else if (result.type === 'cancel') {
        connectNotice.set({ kind: 'cancelled' });
        await refreshStatus();
      } else {
        // Android resolves `dismiss` when the app becomes active before the deep link event
        // arrives, even after a successful consent: the status decides, not this result.
        await refreshStatus();
      }
    } finally {
      setBrowserOpen(false);
    }
  }, [authorizeMutation, handle, mode, navigate, refreshStatus]);

  const onWebViewReturn = useCallback(
    async (url: string) => {
      setWebViewUrl(null);
      await handle(parseReturnUrl(url));
    },
    [handle],
  );

  const onWebViewClose = useCallback(async () => {
    setWebViewUrl(null);
    await refreshStatus();
  }, [refreshStatus]);

  return {
    connect,
    isConnecting: authorizeMutation.isPending || browserOpen,
    authorizeError: authorizeMutation.error,
    webView: { url: webViewUrl, onReturn: onWebViewReturn, onClose: onWebViewClose },
  };
}
