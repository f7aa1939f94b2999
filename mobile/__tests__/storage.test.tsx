import { fireEvent, screen } from '@testing-library/react-native';
import * as SecureStore from 'expo-secure-store';
import { Platform, Text } from 'react-native';

import { tokenStore } from '@/auth/tokenStore';
import { I18nProvider, useI18n } from '@/i18n';
import { renderWithProviders } from '@/test-support/render';

function setPlatform(os: typeof Platform.OS) {
  Object.defineProperty(Platform, 'OS', { value: os, configurable: true });
}

describe('token storage', () => {
  const originalOs = Platform.OS;
  afterEach(() => setPlatform(originalOs));

  test('native: the token lives in the secure store', async () => {
    setPlatform('ios');
    await tokenStore.save('jwt-1');
    expect(await SecureStore.getItemAsync('foryou.session-token')).toBe('jwt-1');
    expect(await tokenStore.load()).toBe('jwt-1');
    await tokenStore.clear();
    expect(await SecureStore.getItemAsync('foryou.session-token')).toBeNull();
    expect(tokenStore.current()).toBeNull();
  });

  test('web: the token lives in sessionStorage, never in the secure store', async () => {
    const items = new Map<string, string>();
    const sessionStorage = {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => void items.set(key, value),
      removeItem: (key: string) => void items.delete(key),
    };
    Object.defineProperty(window, 'sessionStorage', { value: sessionStorage, configurable: true });
    setPlatform('web');

    await tokenStore.save('jwt-web');
    expect(items.get('foryou.session-token')).toBe('jwt-web');
    expect(await SecureStore.getItemAsync('foryou.session-token')).toBeNull();
    expect(await tokenStore.load()).toBe('jwt-web');
    await tokenStore.clear();
    expect(items.size).toBe(0);
  });
});

function LanguageProbe() {
  const { t, setLanguage } = useI18n();
  return (
    <>
      <Text testID="probe">{t.amo.connect}</Text>
      <Text testID="to-en" onPress={() => setLanguage('en')}>
        en
      </Text>
    </>
  );
}

describe('language', () => {
  test('Ukrainian by default; a switch is remembered for the next start', async () => {
    await renderWithProviders(<I18nProvider>{<LanguageProbe />}</I18nProvider>);
    expect(screen.getByTestId('probe')).toHaveTextContent('Підключити');
    await fireEvent.press(screen.getByTestId('to-en'));
    expect(screen.getByTestId('probe')).toHaveTextContent('Connect');
    expect(await SecureStore.getItemAsync('foryou.language')).toBe('en');


    await renderWithProviders(<I18nProvider>{<LanguageProbe />}</I18nProvider>);
    expect(await screen.findByText('Connect')).toBeOnTheScreen();
  });
});
