import type { ConnectionStatus, CreatedLead, Lead, LeadDetail, NewLeadInput, Pipeline, User } from '@/api/types';
import { config } from '@/config';

import { FakeAdmin } from './fakeAdmin';

/**
 * A stand-in for the backend at the network boundary (`fetch`): it answers like the real API
 * (same paths, same envelope, same error codes) from in-memory state and records every request.
 */
export type RecordedRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | null;
  headers: Record<string, string>;
};

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

export const broker: User = {
  id: '5b3c7a52-0d7c-4d5e-9a61-1d0c3f1b2a01',
  email: 'olena@foryou.test',
  name: 'Олена Коваль',
  role: 'BROKER',
  status: 'ACTIVE',
};

export const notConnected: ConnectionStatus = {
  connected: false,
  hasTokens: false,
  domain: null,
  accountId: null,
  state: 'not_connected',
  reason: null,
  amoUserId: null,
  amoUserName: null,
  connectedAt: null,
  reconnectRequested: false,
  reconnectNote: null,
};

export const connected: ConnectionStatus = {
  connected: true,
  hasTokens: true,
  domain: 'reforyou.amocrm.ru',
  accountId: 31920194,
  state: 'connected',
  reason: null,
  amoUserId: 7001,
  amoUserName: 'Олена Коваль',
  connectedAt: '2026-11-27T20:00:00Z',
  reconnectRequested: false,
  reconnectNote: null,
};

export const sampleLeads: Lead[] = [
  {
    id: 101,
    name: 'Квартира на Подолі',
    price: 3200000,
    stageId: 142,
    pipelineId: 10,
    stageName: 'Успішно реалізовано',
    stageColor: '#CCFF66',
    responsibleUserId: 7001,
    responsibleUserName: 'Олена Коваль',
    contactName: 'Іван Петренко',
    contactPhone: '+380501234567',
    updatedAt: '2026-11-27T19:00:00Z',
  },
  {
    id: 102,
    name: 'Будинок в Ірпені',
    price: null,
    stageId: 143,
    pipelineId: 10,
    stageName: null,
    stageColor: null,
    responsibleUserId: 7001,
    responsibleUserName: 'Олена Коваль',
    contactName: null,
    contactPhone: null,
    updatedAt: null,
  },
];

export const samplePipelines: Pipeline[] = [
  {
    id: 10,
    name: 'Продаж',
    sort: 1,
    isMain: true,
    stages: [
      { id: 11, name: 'Первинний контакт', color: '#99ccff', sort: 10, type: 'open' },
      { id: 12, name: 'Переговори', color: '#ffcc66', sort: 20, type: 'open' },
      { id: 142, name: 'Успішно реалізовано', color: '#CCFF66', sort: 10000, type: 'won' },
      { id: 143, name: 'Закрито і не реалізовано', color: '#D5D8DB', sort: 11000, type: 'lost' },
    ],
  },
  {
    id: 20,
    name: 'Оренда',
    sort: 2,
    isMain: false,
    stages: [{ id: 21, name: 'Новий запит', color: '#c1c1c1', sort: 10, type: 'open' }],
  },
];

/** A lead's details as the backend answers them, built from a list item. */
export function detailOf(lead: Lead, extra: Partial<LeadDetail> = {}): LeadDetail {
  return {
    ...lead,
    pipelineName: samplePipelines.find((p) => p.id === lead.pipelineId)?.name ?? null,
    createdAt: '2026-11-20T09:00:00Z',
    closedAt: null,
    contacts: lead.contactName
      ? [
          {
            id: lead.id * 10,
            name: lead.contactName,
            isMain: true,
            phones: lead.contactPhone ? [{ value: lead.contactPhone, type: 'MOB' }] : [],
            emails: [{ value: 'ivan@example.com', type: 'WORK' }],
          },
        ]
      : [],
    customFields: [{ id: 900101, name: 'Район', code: null, type: 'select', values: ['Поділ'] }],
    tags: [{ id: 1201, name: 'VIP', color: null }],
    timeline: [
      {
        id: 'note:5501',
        kind: 'note',
        type: 'common',
        text: 'Перезвонити у вівторок',
        createdAt: '2026-11-27T10:00:00Z',
        createdBy: 7001,
        createdByName: 'Олена Коваль',
        details: {},
      },
      {
        id: 'event:2',
        kind: 'event',
        type: 'lead_status_changed',
        text: null,
        createdAt: '2026-11-26T08:00:00Z',
        createdBy: 7001,
        createdByName: 'Олена Коваль',
        details: { fromStageName: 'Первинний контакт', toStageName: 'Переговори' },
      },
      {
        id: 'event:1',
        kind: 'event',
        type: 'lead_added',
        text: null,
        createdAt: '2026-11-20T09:00:00Z',
        createdBy: null,
        createdByName: null,
        details: {},
      },
    ],
    ...extra,
  };
}

/** Many leads of one pipeline and stage, for paging. */
export function manyLeads(count: number, start = 1000): Lead[] {
  return Array.from({ length: count }, (_, index) => ({
    ...(sampleLeads[0] as Lead),
    id: start + index,
    name: `Угода ${index + 1}`,
    stageId: 11,
    stageName: 'Первинний контакт',
    stageColor: '#99ccff',
  }));
}

/** A strong ETag of a body, as the backend makes them (it depends only on the content). */
function etagOf(body: unknown): string {
  const text = JSON.stringify(body);
  let hash = 0;
  for (let i = 0; i < text.length; i += 1) hash = (hash * 31 + text.charCodeAt(i)) | 0;
  return `"${(hash >>> 0).toString(16)}-${text.length}"`;
}

export function envelope(data: unknown): Reply {
  return { status: 200, body: { success: true, data } };
}

export function failure(status: number, code: string, message = code): Reply {
  return { status, body: { success: false, error: { code, message, requestId: 'req-test' } } };
}

export function failureWith(status: number, code: string, details: Record<string, unknown>[]): Reply {
  return { status, body: { success: false, error: { code, message: code, requestId: 'req-test', details } } };
}

/** 200 with an ETag, or 304 when the request offered that ETag (If-None-Match). */
function conditional(request: RecordedRequest, data: unknown): Reply {
  const reply = envelope(data);
  const etag = etagOf(reply.body);
  if (request.headers['If-None-Match'] === etag) return { status: 304, headers: { ETag: etag } };
  return { ...reply, headers: { ETag: etag } };
}

export class FakeBackend {
  readonly requests: RecordedRequest[] = [];
  token = 'app-jwt-for-tests';
  user: User = broker;
  password = 'correct-horse';
  status: ConnectionStatus = notConnected;
  leads: Lead[] = sampleLeads;
  pipelines: Pipeline[] = samplePipelines;
  /** Details the backend knows beyond the list items (by lead id). */
  details = new Map<number, LeadDetail>();
  /** Leads created through `POST /crm/leads`, and the first answer per Idempotency-Key. */
  readonly created: Lead[] = [];
  private readonly idempotent = new Map<string, { body: string; result: CreatedLead }>();
  private nextLeadId = 5000;
  /** What a successful exchange-code or ticket redemption turns the status into. */
  statusAfterExchange: ConnectionStatus = connected;
  /** Return tickets the backend's callback handed out, by ticket. */
  private readonly tickets = new Map<string, { ownerId: string; expired: boolean }>();
  private readonly queued = new Map<string, Reply[]>();
  private readonly pending = new Map<string, Promise<void>>();
  /** `/admin/*`, answered for role ADMIN only (`forbidden` for anyone else, as the backend does). */
  readonly admin = new FakeAdmin(() => this.user);

  /**
   * The backend's callback checked a consent and holds it for a flow of `ownerId` (by default
   * the signed-in user); the ticket it put in the return URL redeems it once.
   */
  issueTicket(ticket: string, { ownerId = this.user.id, expired = false } = {}): void {
    this.tickets.set(ticket, { ownerId, expired });
  }

  /** The next request to `METHOD /path` gets this reply instead of the normal one. */
  replyOnce(method: string, path: string, reply: Reply): void {
    const key = `${method} ${path}`;
    this.queued.set(key, [...(this.queued.get(key) ?? []), reply]);
  }

  failOnce(method: string, path: string, status: number, code: string): void {
    this.replyOnce(method, path, failure(status, code));
  }

  /** Requests to `METHOD /path` wait until the returned function is called. */
  hold(method: string, path: string): () => void {
    let release: () => void = () => undefined;
    this.pending.set(
      `${method} ${path}`,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    return () => {
      this.pending.delete(`${method} ${path}`);
      release();
    };
  }

  count(method: string, path: string): number {
    return this.requests.filter((r) => r.method === method && r.path === path).length;
  }

  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const base = new URL(config.apiUrl);
    const path = url.pathname.slice(base.pathname.length);
    const method = init.method ?? 'GET';
    const headers = (init.headers ?? {}) as Record<string, string>;
    const request: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams.entries()),
      body: typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
      authorization: headers.Authorization ?? null,
      headers,
    };
    this.requests.push(request);
    const held = this.pending.get(`${method} ${path}`);
    if (held) await held;
    const queued = this.queued.get(`${method} ${path}`);
    const reply = queued?.shift() ?? this.route(request);
    return toResponse(reply);
  };

  private route(request: RecordedRequest): Reply {
    const { method, path } = request;
    if (method === 'POST' && path === '/auth/login') {
      const body = request.body as { email?: string; password?: string };
      if (body.email === this.user.email && body.password === this.password) {
        return envelope({ accessToken: this.token, tokenType: 'Bearer', expiresIn: 3600, user: this.user });
      }
      return failure(401, 'invalid_credentials');
    }
    if (request.authorization !== `Bearer ${this.token}`) return failure(401, 'unauthorized');
    const crmAllowed = this.user.role === 'BROKER' || this.user.role === 'ADMIN';

    switch (`${method} ${path}`) {
      case 'GET /auth/me':
        return envelope(this.user);
      case 'GET /integrations/amo-crm/status':
        return crmAllowed ? envelope(this.status) : failure(403, 'forbidden');
      case 'POST /integrations/amo-crm/authorize': {
        const client = (request.body as { client?: string } | undefined)?.client ?? 'native';
        return envelope({
          authorizeUrl: `http://backend.test/api/v1/integrations/amo-crm/oauth/start?flow=flow-${client}-${this.count(method, path)}`,
          expiresAt: '2026-11-27T21:10:00Z',
        });
      }
      case 'POST /integrations/amo-crm/exchange-code': {
        const body = request.body as { code?: string; state?: string; referer?: string };
        if (!body.code || !body.state || !body.referer) return failure(422, 'validation_error');
        // Like amoCRM, a code works exactly once.
        const earlier = this.requests.filter(
          (r) => r.path === path && (r.body as { code?: string }).code === body.code,
        );
        if (earlier.length > 1) return failure(400, 'amo_state_invalid');
        this.status = this.statusAfterExchange;
        return envelope(this.status);
      }
      case 'POST /integrations/amo-crm/complete': {
        const ticket = (request.body as { ticket?: string } | undefined)?.ticket;
        if (!ticket) return failure(422, 'validation_error');
        const held = this.tickets.get(ticket);
        // Like the backend: a ticket works once, and a refused or expired one is wiped.
        this.tickets.delete(ticket);
        if (!held) return failure(400, 'amo_ticket_invalid');
        if (held.expired) return failure(400, 'amo_ticket_expired');
        if (held.ownerId !== this.user.id) return failure(403, 'amo_flow_not_yours');
        this.status = this.statusAfterExchange;
        return envelope(this.status);
      }
      case 'POST /integrations/amo-crm/disconnect':
        this.status = notConnected;
        return { status: 200, body: { success: true, message: 'Disconnected.' } };
      default:
        break;
    }
    if (path.startsWith('/admin/')) {
      return this.user.role === 'ADMIN' ? this.admin.route(request) : failure(403, 'forbidden');
    }
    if (path.startsWith('/crm/')) {
      if (!crmAllowed) return failure(403, 'forbidden');
      if (this.status.state === 'not_connected') return failure(409, 'amo_not_connected');
      if (this.status.state === 'reauth_required') return failure(409, 'amo_reauth_required');
      return this.crm(request);
    }
    return failure(404, 'not_found');
  }

  private crm(request: RecordedRequest): Reply {
    const { method, path, query } = request;
    if (method === 'GET' && path === '/crm/pipelines') return conditional(request, { items: this.pipelines });
    if (method === 'GET' && path === '/crm/leads') {
      const page = Number(query.page ?? '1');
      const limit = Number(query.limit ?? '25');
      const search = query.query?.toLowerCase();
      const matching = [...this.created, ...this.leads].filter(
        (lead) =>
          (!query.pipelineId || lead.pipelineId === Number(query.pipelineId)) &&
          (!query.stageId || lead.stageId === Number(query.stageId)) &&
          (!search || lead.name.toLowerCase().includes(search)),
      );
      const items = matching.slice((page - 1) * limit, page * limit);
      return conditional(request, { items, page, limit, hasMore: matching.length > page * limit });
    }
    const detail = /^\/crm\/leads\/(\d+)$/.exec(path);
    if (method === 'GET' && detail) {
      const id = Number(detail[1]);
      const known = this.details.get(id);
      const lead = [...this.created, ...this.leads].find((candidate) => candidate.id === id);
      if (known) return conditional(request, known);
      return lead ? conditional(request, detailOf(lead)) : failure(404, 'not_found');
    }
    if (method === 'POST' && path === '/crm/leads') return this.createLead(request);
    return failure(404, 'not_found');
  }

  /** Like the backend: validation, Idempotency-Key replay and reuse, 201 with the list-item shape. */
  private createLead(request: RecordedRequest): Reply {
    const key = request.headers['Idempotency-Key'];
    if (!key || !/^[A-Za-z0-9_.:-]{8,100}$/.test(key)) {
      return failureWith(422, 'validation_error', [{ field: 'Idempotency-Key', message: 'required' }]);
    }
    const input = request.body as NewLeadInput;
    const body = JSON.stringify(input);
    const earlier = this.idempotent.get(key);
    if (earlier) {
      if (earlier.body !== body) return failure(422, 'idempotency_key_reused');
      return { status: 201, body: { success: true, data: earlier.result }, headers: { 'Idempotency-Replayed': 'true' } };
    }
    if (!input.name && !input.phone && !input.email) {
      return failureWith(422, 'validation_error', [{ field: 'body', message: 'one of name, phone, email' }]);
    }
    const pipeline = this.pipelines.find((candidate) => candidate.id === input.pipelineId);
    const stage = pipeline?.stages.find((candidate) => candidate.id === input.stageId);
    if (!pipeline || !stage) return failureWith(422, 'validation_error', [{ field: 'stageId', message: 'unknown' }]);
    this.nextLeadId += 1;
    const name = input.name ?? input.phone ?? input.email ?? '';
    const lead: Lead = {
      id: this.nextLeadId,
      name,
      price: input.price ?? null,
      stageId: stage.id,
      pipelineId: pipeline.id,
      stageName: stage.name,
      stageColor: stage.color,
      responsibleUserId: this.status.amoUserId,
      responsibleUserName: this.status.amoUserName,
      contactName: name,
      contactPhone: input.phone ?? null,
      updatedAt: '2026-11-27T21:40:00Z',
    };
    const result: CreatedLead = { id: lead.id, contactId: 48000000 + lead.id, noteId: input.comment ? 1 : null, taskId: 2, lead };
    this.created.unshift(lead);
    this.idempotent.set(key, { body, result });
    return { status: 201, body: { success: true, data: result }, headers: { 'Idempotency-Replayed': 'false' } };
  }
}

function toResponse(reply: Reply): Response {
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  const headers = Object.fromEntries(
    Object.entries(reply.headers ?? {}).map(([key, value]) => [key.toLowerCase(), value]),
  );
  const response = {
    ok: reply.status >= 200 && reply.status < 300,
    status: reply.status,
    headers: { get: (name: string) => headers[name.toLowerCase()] ?? null },
    text: async () => text,
  };
  return response as unknown as Response;
}

/** Installs a fresh fake backend as the global `fetch` for one test. */
export function installFakeBackend(): FakeBackend {
  const backend = new FakeBackend();
  global.fetch = jest.fn(backend.fetch) as unknown as typeof fetch;
  return backend;
}
