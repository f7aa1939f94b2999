import { fireEvent, screen } from '@testing-library/react-native';

import { AmoCrmAuthWebView, isReturnNavigation } from '@/components/amo-crm/AmoCrmAuthWebView';
import { renderWithProviders } from '@/test-support/render';

// The jest stand-in for the native WebView keeps the props it was rendered with.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { lastWebViewProps } = require('react-native-webview') as {
  lastWebViewProps: { current: Record<string, unknown> | null };
};

const RETURN = 'foryouapp://amo-crm/callback';

function webViewProp<T>(name: string): T {
  return lastWebViewProps.current?.[name] as T;
}

describe('AmoCrmAuthWebView (variant B)', () => {
  test('recognises only our return URL', () => {
    expect(isReturnNavigation(`${RETURN}?status=connected`, RETURN)).toBe(true);
    expect(isReturnNavigation(RETURN, RETURN)).toBe(true);
    expect(isReturnNavigation(`${RETURN}-evil?status=connected`, RETURN)).toBe(false);
    expect(isReturnNavigation('https://www.amocrm.ru/oauth?state=x', RETURN)).toBe(false);
  });

  test('whitelists the app scheme so the return reaches onShouldStartLoadWithRequest', async () => {
    await renderWithProviders(
      <AmoCrmAuthWebView authorizeUrl="http://backend.test/start?flow=1" onReturn={jest.fn()} onClose={jest.fn()} />,
    );
    expect(webViewProp<string[]>('originWhitelist')).toContain('foryouapp://*');
    expect(webViewProp<{ uri: string }>('source')).toEqual({ uri: 'http://backend.test/start?flow=1' });
  });

  test('intercepts the return instead of loading it, once', async () => {
    const onReturn = jest.fn();
    await renderWithProviders(
      <AmoCrmAuthWebView authorizeUrl="http://backend.test/start" onReturn={onReturn} onClose={jest.fn()} />,
    );
    const shouldStart = webViewProp<(request: { url: string }) => boolean>('onShouldStartLoadWithRequest');
    const onNavigation = webViewProp<(navigation: { url: string }) => void>('onNavigationStateChange');

    expect(shouldStart({ url: 'http://127.0.0.1:8020/oauth?client_id=x' })).toBe(true);
    expect(shouldStart({ url: `${RETURN}?status=connected` })).toBe(false);
    onNavigation({ url: `${RETURN}?status=connected` });

    expect(onReturn).toHaveBeenCalledTimes(1);
    expect(onReturn).toHaveBeenCalledWith(`${RETURN}?status=connected`);
  });

  test('closing without a return hands control back', async () => {
    const onClose = jest.fn();
    await renderWithProviders(
      <AmoCrmAuthWebView authorizeUrl="http://backend.test/start" onReturn={jest.fn()} onClose={onClose} />,
    );
    await fireEvent.press(screen.getByTestId('amo-webview-close'));
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});
