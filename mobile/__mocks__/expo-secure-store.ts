/** In-memory stand-in for the native Keychain/Keystore module, which cannot run under jest. */
const items = new Map<string, string>();

export async function getItemAsync(key: string): Promise<string | null> {
  return items.get(key) ?? null;
}

export async function setItemAsync(key: string, value: string): Promise<void> {
  items.set(key, value);
}

export async function deleteItemAsync(key: string): Promise<void> {
  items.delete(key);
}

/** Test helper: forget everything between tests. */
export function __reset(): void {
  items.clear();
}
