/**
 * Reads the emulator's amoCRM data the way an amoCRM admin would, independently of our backend:
 * a separate integration, the admin's consent in the browser, then API v4 with that token.
 */
import { randomBytes } from 'node:crypto';

import type { Browser } from 'playwright-core';

import type { AmoUser } from './stack';

export type AmoLead = {
  id: number;
  name: string;
  price: number | null;
  responsible_user_id: number;
  pipeline_id: number;
  status_id: number;
  _embedded?: { contacts?: { id: number }[] };
};

export type AmoTask = {
  id: number;
  text: string;
  is_completed: boolean;
  responsible_user_id: number;
  result?: { text?: string } | null;
};

export type AmoAdminApi = {
  leadsNamed(name: string): Promise<AmoLead[]>;
  leadsOf(responsibleUserId: number): Promise<AmoLead[]>;
  contactPhones(contactId: number): Promise<string[]>;
  noteTexts(leadId: number): Promise<string[]>;
  leadTasks(leadId: number): Promise<AmoTask[]>;
};

/**
 * A person works in amoCRM's own web UI (the emulator's act-as control): the change takes
 * amoCRM's normal path (rights, events, webhooks) with that user as its author.
 */
export async function actInAmo(
  emulatorUrl: string,
  user: AmoUser,
  action: Record<string, unknown> & { action: string },
): Promise<unknown> {
  const response = await fetch(`${emulatorUrl}/_emulator/act-as/${user.id}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ account_id: user.account_id, ...action }),
  });
  if (!response.ok) throw new Error(`act-as ${action.action}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

export async function amoAdminApi(browser: Browser, emulatorUrl: string, admin: AmoUser): Promise<AmoAdminApi> {
  const clientId = `e2e-check-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('hex');
  // Never reached: the browser's request to it is intercepted to read the code.
  const redirectUri = 'http://127.0.0.1:9/e2e-check';
  const registered = await fetch(`${emulatorUrl}/_emulator/integrations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, client_secret: clientSecret, redirect_uri: redirectUri, name: 'E2E check' }),
  });
  if (registered.status !== 201) throw new Error(`registering the check integration: ${registered.status}`);

  const context = await browser.newContext();
  let code: string | null = null;
  try {
    const page = await context.newPage();
    await page.route(`${redirectUri}**`, async (route) => {
      code = new URL(route.request().url()).searchParams.get('code');
      await route.fulfill({ status: 200, body: 'ok' });
    });
    await page.goto(`${emulatorUrl}/oauth?client_id=${clientId}&state=e2e-check&mode=post_message`);
    await page.locator('input[name="login"]').fill(admin.login);
    await page.locator('input[name="password"]').fill(admin.password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.getByRole('button', { name: 'Разрешить' }).waitFor();
    if ((await page.locator('select[name="account"]').count()) > 0) {
      await page.locator('select[name="account"]').selectOption(String(admin.account_id));
    }
    await page.getByRole('button', { name: 'Разрешить' }).click();
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
  } finally {
    await context.close();
  }
  if (!code) throw new Error('the admin consent returned no code');

  const tokenResponse = await fetch(`${emulatorUrl}/oauth2/access_token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      client_id: clientId,
      client_secret: clientSecret,
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
    }),
  });
  const token = ((await tokenResponse.json()) as { access_token?: string }).access_token;
  if (!token) throw new Error(`token exchange for the check integration: ${tokenResponse.status}`);

  const get = async <T>(path: string): Promise<T | null> => {
    const response = await fetch(`${emulatorUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    if (response.status === 204) return null;
    if (!response.ok) throw new Error(`emulator ${path}: ${response.status}`);
    return (await response.json()) as T;
  };

  return {
    async leadsNamed(name) {
      const body = await get<{ _embedded: { leads: AmoLead[] } }>(
        `/api/v4/leads?with=contacts&limit=250&query=${encodeURIComponent(name)}`,
      );
      return (body?._embedded.leads ?? []).filter((lead) => lead.name === name);
    },
    async leadsOf(responsibleUserId) {
      const body = await get<{ _embedded: { leads: AmoLead[] } }>(
        `/api/v4/leads?filter[responsible_user_id]=${responsibleUserId}&limit=250`,
      );
      return body?._embedded.leads ?? [];
    },
    async contactPhones(contactId) {
      const contact = await get<{
        custom_fields_values: { field_code: string | null; values: { value: string }[] }[] | null;
      }>(`/api/v4/contacts/${contactId}`);
      return (contact?.custom_fields_values ?? [])
        .filter((field) => field.field_code === 'PHONE')
        .flatMap((field) => field.values.map((value) => value.value));
    },
    async noteTexts(leadId) {
      const notes = await get<{ _embedded: { notes: { params?: { text?: string } }[] } }>(`/api/v4/leads/${leadId}/notes`);
      return (notes?._embedded.notes ?? []).map((note) => note.params?.text ?? '');
    },
    async leadTasks(leadId) {
      const tasks = await get<{ _embedded: { tasks: AmoTask[] } }>(
        `/api/v4/tasks?filter[entity_type]=leads&filter[entity_id]=${leadId}&limit=250`,
      );
      return tasks?._embedded.tasks ?? [];
    },
  };
}
