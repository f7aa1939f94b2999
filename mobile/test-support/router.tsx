import * as SecureStore from 'expo-secure-store';
import { renderRouter } from 'expo-router/testing-library';

import { connected, type FakeBackend, installFakeBackend } from './fakeBackend';

/** Puts a saved session on the device, as if the broker had signed in earlier. */
export async function signedInAs(backend: FakeBackend): Promise<void> {
  await SecureStore.setItemAsync('foryou.session-token', backend.token);
}

/** A signed-in broker with amoCRM connected; `setup` adjusts the backend before the app starts. */
export async function connectedBroker(setup: (backend: FakeBackend) => void = () => undefined): Promise<FakeBackend> {
  const backend = installFakeBackend();
  backend.status = connected;
  setup(backend);
  await signedInAs(backend);
  return backend;
}

/** Renders the real `app/` directory at a URL and returns the router's inspection helpers. */
export async function renderApp(initialUrl: string) {
  const rendered = renderRouter('./app', { initialUrl });
  await rendered; // RNTL 14 renders asynchronously; the helpers live on the returned promise
  return {
    getPathname: () => rendered.getPathname(),
    getSearchParams: () => rendered.getSearchParams(),
  };
}
