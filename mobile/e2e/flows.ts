/**
 * Steps both browser tests take the same way: starting Chromium, keeping secrets out of the
 * logs, signing in to the app, and the trip through the backend's start page and amoCRM's
 * sign-in. Screenshots stay with each test: they name its own steps.
 */
import { type Browser, chromium, type Page } from 'playwright-core';

import type { AmoUser } from './stack';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Debian's Chromium, headless, without the background traffic a test has no use for. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

/** amoCRM codes, states, flow ids and return tickets stay out of the logs, even test logs. */
export function redact(url: string): string {
  return url.replace(/([?&](?:code|state|flow|ticket)=)[^&]*/g, '$1***');
}

/** The app's sign-in screen as it is first shown. */
export async function openSignIn(page: Page, appUrl: string): Promise<void> {
  await page.goto(`${appUrl}/`);
  await page.getByTestId('sign-in-screen').waitFor();
}

/** E-mail and password on the open sign-in screen, then the home tab. */
export async function submitSignIn(page: Page, user: { email: string; password: string }): Promise<void> {
  await page.getByTestId('sign-in-email').fill(user.email);
  await page.getByTestId('sign-in-password').fill(user.password);
  await page.getByTestId('sign-in-submit').click();
  await page.getByTestId('home-screen').waitFor();
}

/** The backend's start page, which names the ForYou account the connection will belong to. */
export async function reachStartPage(page: Page, apiUrl: string, owner: { name: string }): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(`${apiUrl}/integrations/amo-crm/oauth/start`));
  await page.getByText(owner.name).first().waitFor({ state: 'visible' });
}

/** «Продовжити до amoCRM» on the start page leads to amoCRM's (the emulator's) sign-in. */
export async function continueToAmo(page: Page, emulatorUrl: string): Promise<void> {
  await page.getByRole('link', { name: 'Продовжити до amoCRM' }).click();
  await page.waitForURL((url) => url.href.startsWith(`${emulatorUrl}/oauth`));
}

/** Signs in to amoCRM as the given user, up to its allow/deny page. */
export async function amoSignIn(page: Page, user: AmoUser): Promise<void> {
  await page.locator('input[name="login"]').fill(user.login);
  await page.locator('input[name="password"]').fill(user.password);
  await page.getByRole('button', { name: 'Войти' }).click();
  await page.getByRole('button', { name: 'Разрешить' }).waitFor();
}

/** The CRM tab's «amoCRM» pill opens the connection's details: who is connected, and disconnect. */
export async function openConnectionDetails(page: Page): Promise<void> {
  await page.getByTestId('amo-status-badge').click();
  await page.getByTestId('amo-status-sheet').waitFor();
}
