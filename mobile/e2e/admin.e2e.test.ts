/**
 * The agency's admin in a real browser (exported web app, real backend, amoCRM emulator,
 * Chromium): sees who is connected, asks a broker to reconnect (the broker sees the banner),
 * pastes a long-lived token minted in the emulator, and the brokers' amoCRM names appear.
 * Screenshots of every screen go to e2e/artifacts-admin/ (apart from the connect test's, which it clears).
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';

import { amoSignIn, continueToAmo, launchBrowser, openConnectionDetails, openSignIn, reachStartPage, redact, submitSignIn } from './flows';
import { type AmoUser, type AppUserSpec, type Stack, startStack } from './stack';

const MOBILE_ROOT = path.resolve(__dirname, '..');
const DIST = path.join(MOBILE_ROOT, 'dist');
const ARTIFACTS = path.join(MOBILE_ROOT, 'e2e', 'artifacts-admin');
const STEP_TIMEOUT = 20_000;

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(path.join(DIST, 'index.html'))) {
    throw new Error('No web build in mobile/dist: run `npm run export:web` first.');
  }
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startStack({ distDir: DIST, logDir: ARTIFACTS });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

let shotCounter = 0;
async function shot(page: Page, step: string): Promise<void> {
  shotCounter += 1;
  await page.screenshot({ path: path.join(ARTIFACTS, `${String(shotCounter).padStart(2, '0')}-${step}.png`), fullPage: true });
}

/** A fresh browser context (no session carried over) on a phone-sized screen. */
async function newPage(who: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'uk-UA' });
  context.setDefaultTimeout(STEP_TIMEOUT);
  const page = await context.newPage();
  const log = (line: string) => appendFileSync(path.join(ARTIFACTS, 'browser.log'), `${new Date().toISOString()} [${who}] ${line}\n`);
  page.on('console', (message) => log(`console.${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => log(`pageerror: ${error.message}`));
  page.on('response', (response) => {
    if (response.url().startsWith(stack.apiUrl)) log(`api: ${response.status()} ${response.request().method()} ${redact(response.url())}`);
  });
  return page;
}

async function signIn(page: Page, user: AppUserSpec): Promise<void> {
  await openSignIn(page, stack.appUrl);
  await submitSignIn(page, user);
}

/** CRM tab → «Підключити» → the backend's start page → amoCRM sign-in → «Разрешить» → connected. */
async function connectAmo(page: Page, owner: AppUserSpec, amoUser: AmoUser): Promise<void> {
  await page.getByTestId('tab-crm').click();
  await page.getByTestId('crm-not-connected').waitFor();
  await page.getByRole('button', { name: 'Підключити', exact: true }).click();
  await reachStartPage(page, stack.apiUrl, owner);
  await continueToAmo(page, stack.emulatorUrl);
  await amoSignIn(page, amoUser);
  await page.getByRole('button', { name: 'Разрешить' }).click();
  await page.waitForURL((url) => url.href.startsWith(stack.appUrl) && url.pathname === '/crm');
  await page.getByTestId('amo-status-badge').waitFor();
}

async function mintLongLivedToken(amoAdmin: AmoUser, days: number): Promise<string> {
  const response = await fetch(`${stack.emulatorUrl}/_emulator/long-lived-tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user_id: amoAdmin.id, account_id: amoAdmin.account_id, days }),
  });
  if (response.status !== 201) throw new Error(`long-lived token: emulator ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

function appUser(email: string, name: string, role: AppUserSpec['role'] = 'broker'): AppUserSpec {
  return { email, name, role, password: randomBytes(12).toString('hex') };
}

test('the admin sees who is connected, asks a broker to reconnect, and the agency token names the brokers', async () => {
  const reforyou = stack.amoUsers.filter((user) => user.account_subdomain === 'reforyou');
  const [amoBroker1, amoBroker2] = reforyou.filter((user) => user.role === 'broker');
  const amoAdmin = reforyou.find((user) => user.role === 'admin');
  if (!amoBroker1 || !amoBroker2 || !amoAdmin) throw new Error('the emulator needs two brokers and an admin in reforyou');
  // App names unlike the amoCRM names, so a name from amoCRM's users catalogue is recognisable.
  const broker1 = appUser('broker1.admin-e2e@foryou.test', 'Брокер Перший');
  const broker2 = appUser('broker2.admin-e2e@foryou.test', 'Брокер Другий');
  const admin = appUser('admin.admin-e2e@foryou.test', 'Адміністратор Агенції', 'admin');
  for (const user of [broker1, broker2, admin]) await stack.createAppUser(user);

  const brokerPage = await newPage('broker1');
  await signIn(brokerPage, broker1);
  await connectAmo(brokerPage, broker1, amoBroker1);
  // No agency connection yet: a broker cannot read their own amoCRM user, so the app name stands in.
  await openConnectionDetails(brokerPage);
  await brokerPage.getByTestId('amo-connected-as').getByText(broker1.name, { exact: false }).waitFor();
  await shot(brokerPage, 'broker1-connected-before-agency');

  const adminPage = await newPage('admin');
  await signIn(adminPage, admin);
  await adminPage.getByTestId('tab-admin').click();
  await adminPage.getByTestId('admin-brokers').waitFor();
  const row1 = adminPage.getByTestId(`broker-${broker1.email}`);
  const row2 = adminPage.getByTestId(`broker-${broker2.email}`);
  await adminPage.getByTestId(`broker-${broker1.email}-state`).getByText('Підключено').waitFor();
  await adminPage.getByTestId(`broker-${broker2.email}-state`).getByText('Не підключався').waitFor();
  await shot(adminPage, 'admin-brokers');

  await adminPage.getByTestId('brokers-state-never_connected').click();
  await row1.waitFor({ state: 'detached' });
  await row2.waitFor();
  await shot(adminPage, 'admin-brokers-filter-never-connected');
  await adminPage.getByTestId('brokers-state-all').click();

  // broker1's detail: timeline and the unlink question (answered «Скасувати»).
  await row1.click();
  await adminPage.getByTestId('admin-event-connected').waitFor();
  await shot(adminPage, 'admin-broker1-detail');
  await adminPage.getByTestId('admin-unlink').click();
  await adminPage.getByTestId('admin-unlink-dialog').getByText('звільниться', { exact: false }).waitFor();
  await shot(adminPage, 'admin-unlink-dialog');
  await adminPage.getByTestId('admin-unlink-dialog-cancel').click();
  await adminPage.getByTestId('admin-back').click();

  // Ask broker2 to reconnect, with a note.
  await row2.click();
  await adminPage.getByRole('button', { name: 'Попросити перепідключитися' }).click();
  await adminPage.getByLabel('Примітка для брокера (необов’язково)').fill('Підключіть свій amoCRM, будь ласка');
  await shot(adminPage, 'admin-reconnect-form');
  await adminPage.getByTestId('admin-reconnect-send').click();
  await adminPage.getByTestId('admin-broker-done').waitFor();
  await adminPage.getByTestId('admin-event-reconnect_requested').waitFor();
  await shot(adminPage, 'admin-reconnect-requested');

  // broker2, in a fresh page, sees the request on the CRM tab.
  const broker2Page = await newPage('broker2');
  await signIn(broker2Page, broker2);
  await broker2Page.getByTestId('tab-crm').click();
  const banner = broker2Page.getByTestId('amo-reconnect-requested');
  await banner.getByText('Агенція просить вас знову підключити amoCRM').waitFor();
  await banner.getByText('Підключіть свій amoCRM, будь ласка', { exact: false }).waitFor();
  await shot(broker2Page, 'broker2-reconnect-banner');
  // One tap starts the connect flow (the backend's start page names the broker).
  await broker2Page.getByRole('button', { name: 'Підключити знову', exact: true }).click();
  await reachStartPage(broker2Page, stack.apiUrl, broker2);
  await broker2Page.context().close();

  // The agency connection: a refused token first, then one minted for the amoCRM admin.
  const domain = `${amoAdmin.account_subdomain}.${amoAdmin.base_domain}`;
  await adminPage.getByTestId('admin-back').click();
  await adminPage.getByTestId('admin-section-agency').click();
  await adminPage.getByTestId('agency-health').getByText('Не налаштоване').waitFor();
  await adminPage.getByTestId('agency-domain').fill(domain);
  await adminPage.getByTestId('agency-token').fill('not.a.token');
  await adminPage.getByTestId('agency-save').click();
  await adminPage.getByTestId('agency-token-error').getByText('Токен не прийнято', { exact: false }).waitFor();
  await shot(adminPage, 'admin-agency-token-refused');

  // Ten days left: the card warns that it expires soon.
  const token = await mintLongLivedToken(amoAdmin, 10);
  await adminPage.getByTestId('agency-token').fill(token);
  await adminPage.getByTestId('agency-save').click();
  await adminPage.getByTestId('agency-token-saved').waitFor();
  await adminPage.getByTestId('agency-health').getByText('Скоро закінчиться').waitFor();
  await adminPage.getByTestId('agency-banner').waitFor();
  await adminPage.getByTestId('agency-last4').getByText(`…${token.slice(-4)}`).waitFor();
  expect(await adminPage.getByTestId('agency-token').inputValue()).toBe('');
  expect(await adminPage.content()).not.toContain(token);
  await shot(adminPage, 'admin-agency-expiring');

  // The brokers' amoCRM names now come from the catalogue: in the admin list…
  await adminPage.getByTestId('admin-section-brokers').click();
  await adminPage.getByTestId(`broker-${broker1.email}-amo-user`).getByText(amoBroker1.name, { exact: false }).waitFor();
  await shot(adminPage, 'admin-brokers-with-amo-names');

  // …and in broker1's own status badge.
  await brokerPage.reload();
  await openConnectionDetails(brokerPage);
  await brokerPage.getByTestId('amo-connected-as').getByText(amoBroker1.name, { exact: false }).waitFor();
  await shot(brokerPage, 'broker1-badge-amo-name');

  // App users: a new broker with a generated one-time password.
  await adminPage.getByTestId('admin-section-users').click();
  await adminPage.getByTestId('create-broker-email').fill('broker3.admin-e2e@foryou.test');
  await adminPage.getByTestId('create-broker-name').fill('Брокер Третій');
  await adminPage.getByTestId('create-broker-submit').click();
  await adminPage.getByTestId('create-broker-one-time-password').waitFor();
  await shot(adminPage, 'admin-user-created-one-time-password');
  await adminPage.getByTestId('create-broker-done').click();
  await adminPage.getByTestId(`user-${broker2.email}-block`).click();
  await shot(adminPage, 'admin-block-dialog');
  await adminPage.getByTestId(`user-${broker2.email}-confirm-confirm`).click();
  await adminPage.getByTestId(`user-${broker2.email}-status`).getByText('Заблокований').waitFor();
  await shot(adminPage, 'admin-user-blocked');

  // A broker who types the console's address gets a refusal.
  await brokerPage.goto(`${stack.appUrl}/admin`);
  await brokerPage.getByTestId('admin-forbidden').waitFor();
  await shot(brokerPage, 'broker1-admin-not-available');
});
