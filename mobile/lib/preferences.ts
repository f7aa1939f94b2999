import * as SecureStore from 'expo-secure-store';
import { Platform } from 'react-native';

/**
 * Small non-secret user preferences (the chosen language). Native apps reuse the secure
 * store's key-value API rather than pulling in another storage module; the web keeps them in
 * localStorage so they outlive the tab.
 */
function webStorage(): Storage | null {
  try {
    return typeof window !== 'undefined' && window.localStorage ? window.localStorage : null;
  } catch {
    return null;
  }
}

export async function readPreference(key: string): Promise<string | null> {
  if (Platform.OS === 'web') return webStorage()?.getItem(key) ?? null;
  return SecureStore.getItemAsync(key);
}

export async function writePreference(key: string, value: string): Promise<void> {
  if (Platform.OS === 'web') {
    webStorage()?.setItem(key, value);
    return;
  }
  await SecureStore.setItemAsync(key, value);
}
