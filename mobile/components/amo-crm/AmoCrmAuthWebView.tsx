import { useRef } from 'react';
import { Modal, StyleSheet, Text, View } from 'react-native';
import { SafeAreaView } from 'react-native-safe-area-context';
import { WebView, type WebViewNavigation } from 'react-native-webview';
import type { ShouldStartLoadRequest } from 'react-native-webview/lib/WebViewTypes';

import { config, nativeReturnUrl } from '@/config';
import { useI18n } from '@/i18n';

import { Button } from '../ui/Button';
import { colors, spacing } from '../ui/theme';

type Props = {
  authorizeUrl: string;
  onReturn(url: string): void;
  onClose(): void;
  returnUrl?: string;
};

/** True when a navigation is the backend sending the browser back to the app. */
export function isReturnNavigation(url: string, returnUrl: string): boolean {
  return url === returnUrl || url.startsWith(`${returnUrl}?`) || url.startsWith(`${returnUrl}#`);
}

/**
 * Variant B: amoCRM consent inside an in-app WebView. Off by default (setting
 * `EXPO_PUBLIC_AMO_AUTH_WEBVIEW=1`); the system browser (`openAuthSessionAsync`) is the
 * supported way, since a WebView lets the host app see what the broker types.
 *
 * The return URL uses our custom scheme. A WebView cancels any navigation whose origin is not
 * whitelisted and hands it to `Linking.openURL` without asking `onShouldStartLoadWithRequest`,
 * so the scheme is whitelisted here and the return is caught before it loads.
 */
export function AmoCrmAuthWebView({
  authorizeUrl,
  onReturn,
  onClose,
  returnUrl = nativeReturnUrl(),
}: Props) {
  const { t } = useI18n();
  // Both hooks below may see the same return; hand it over once.
  const returned = useRef(false);
  const deliver = (url: string) => {
    if (returned.current) return;
    returned.current = true;
    onReturn(url);
  };

  const shouldStart = (request: ShouldStartLoadRequest): boolean => {
    if (isReturnNavigation(request.url, returnUrl)) {
      deliver(request.url);
      return false;
    }
    return true;
  };

  // Some Android versions report the redirect only as a navigation state change.
  const onNavigationStateChange = (navigation: WebViewNavigation) => {
    if (isReturnNavigation(navigation.url, returnUrl)) deliver(navigation.url);
  };

  return (
    <Modal visible animationType="slide" onRequestClose={onClose}>
      <SafeAreaView style={styles.container} testID="amo-auth-webview">
        <View style={styles.header}>
          <Text style={styles.title}>{t.amo.webViewTitle}</Text>
          <Button title={t.amo.webViewClose} onPress={onClose} variant="secondary" testID="amo-webview-close" />
        </View>
        <WebView
          source={{ uri: authorizeUrl }}
          originWhitelist={['https://*', 'http://*', `${config.scheme}://*`]}
          onShouldStartLoadWithRequest={shouldStart}
          onNavigationStateChange={onNavigationStateChange}
          incognito
          sharedCookiesEnabled={false}
        />
      </SafeAreaView>
    </Modal>
  );
}

const styles = StyleSheet.create({
  container: { flex: 1, backgroundColor: colors.background },
  header: {
    flexDirection: 'row',
    alignItems: 'center',
    justifyContent: 'space-between',
    padding: spacing.md,
  },
  title: { fontSize: 17, fontWeight: '600', color: colors.text },
});
