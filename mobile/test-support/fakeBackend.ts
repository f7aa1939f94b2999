import type {
  ConnectionStatus,
  CreatedLead,
  Lead,
  LeadChange,
  LeadDetail,
  NewLeadInput,
  NewTaskInput,
  Note,
  Pipeline,
  Task,
  TaskBoard,
  User,
} from '@/api/types';
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

/** Local time today at `hours:minutes`, as an ISO string (the board's "today" in tests). */
export function todayAt(hours: number, minutes = 0): string {
  const date = new Date();
  date.setHours(hours, minutes, 0, 0);
  return date.toISOString();
}

export function daysFromNow(days: number, hours = 10): string {
  const date = new Date();
  date.setDate(date.getDate() + days);
  date.setHours(hours, 0, 0, 0);
  return date.toISOString();
}

export function sampleTask(id: number, extra: Partial<Task> = {}): Task {
  return {
    id,
    text: 'Зателефонувати клієнту',
    type: 'call',
    typeId: 1,
    typeName: 'Звонок',
    dueAt: todayAt(15),
    isCompleted: false,
    lead: { id: 101, name: 'Квартира на Подолі' },
    contact: { name: 'Іван Петренко', phone: '+380 50 123-45-67' },
    ...extra,
  };
}

/** One overdue call, two for today (a call and a meeting), one upcoming meeting. */
export function sampleBoard(): Pick<TaskBoard, 'overdue' | 'today' | 'upcoming'> {
  return {
    overdue: [sampleTask(301, { text: 'Передзвонити щодо іпотеки', dueAt: daysFromNow(-1, 9) })],
    today: [
      sampleTask(302),
      sampleTask(303, { type: 'meeting', typeId: 2, typeName: 'Встреча', text: 'Показ квартири', contact: null }),
    ],
    upcoming: [
      sampleTask(304, {
        type: 'meeting',
        typeId: 2,
        typeName: 'Встреча',
        text: 'Підписання договору',
        dueAt: daysFromNow(3),
        lead: { id: 102, name: 'Будинок в Ірпені' },
        contact: null,
      }),
    ],
  };
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
  /** The amoCRM account's currency, answered with the pipelines. */
  currency: string | null = 'UAH';
  /** The broker's open tasks, by group. */
  board: Pick<TaskBoard, 'overdue' | 'today' | 'upcoming'> = { overdue: [], today: [], upcoming: [] };
  readonly completedTasks: Task[] = [];
  private nextTaskId = 7000;
  private nextNoteId = 9000;
  /** Live stream: tickets handed out, streams opened, events sent (ids count up). */
  private readonly streamTickets = new Set<string>();
  readonly streams: FakeEventSource[] = [];
  private nextEventId = 0;
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
    // Status 0 stands for no answer at all: the request never reached the backend.
    if (reply.status === 0) throw new TypeError('Network request failed');
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
      case 'POST /events/stream-ticket': {
        const ticket = `ticket-${this.count(method, path)}`;
        this.streamTickets.add(ticket);
        return envelope({ ticket, expiresAt: '2026-11-27T21:11:00Z' });
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
    if (method === 'GET' && path === '/crm/pipelines') {
      return conditional(request, { items: this.pipelines, currency: this.currency });
    }
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
    if (method === 'PATCH' && detail) return this.changeLead(Number(detail[1]), request.body as LeadChange);
    const notes = /^\/crm\/leads\/(\d+)\/notes$/.exec(path);
    if (method === 'POST' && notes) return this.addNote(Number(notes[1]), request);
    if (method === 'GET' && path === '/crm/tasks') return conditional(request, this.taskBoard());
    if (method === 'POST' && path === '/crm/tasks') return this.createTask(request);
    const complete = /^\/crm\/tasks\/(\d+)\/complete$/.exec(path);
    if (method === 'POST' && complete) return this.completeTask(Number(complete[1]), request);
    return failure(404, 'not_found');
  }

  private findLead(id: number): Lead | undefined {
    return [...this.created, ...this.leads].find((candidate) => candidate.id === id);
  }

  /** Replaces a lead in the lists and its details (a change made here or "in amoCRM"). */
  updateLead(id: number, change: Partial<Lead>): void {
    this.leads = this.leads.map((lead) => (lead.id === id ? { ...lead, ...change } : lead));
    const known = this.details.get(id);
    if (known) this.details.set(id, { ...known, ...change });
  }

  private detail(id: number): LeadDetail | null {
    const lead = this.findLead(id);
    return this.details.get(id) ?? (lead ? detailOf(lead) : null);
  }

  private changeLead(id: number, change: LeadChange): Reply {
    if (!this.findLead(id)) return failure(404, 'lead_not_found');
    if (Object.keys(change ?? {}).length === 0) return failure(422, 'invalid_request');
    const update: Partial<Lead> = {};
    if (change.statusId !== undefined && change.statusId !== null) {
      const pipeline = this.pipelines.find((candidate) => candidate.id === change.pipelineId);
      const stage = pipeline?.stages.find((candidate) => candidate.id === change.statusId);
      if (!pipeline || !stage || (stage.type as string) === 'unsorted') return failure(422, 'stage_not_allowed');
      Object.assign(update, { pipelineId: pipeline.id, stageId: stage.id, stageName: stage.name, stageColor: stage.color });
    }
    if (change.price !== undefined) update.price = change.price;
    if (change.name !== undefined && change.name !== null) update.name = change.name;
    this.updateLead(id, update);
    const detail = this.detail(id) as LeadDetail;
    const pipelineName = this.pipelines.find((candidate) => candidate.id === detail.pipelineId)?.name ?? null;
    return envelope({ ...detail, pipelineName });
  }

  /** Idempotency-Key like the backend: required, replayed for the same body, refused for another. */
  private idempotentWrite(request: RecordedRequest, write: () => { status: number; data: unknown } | Reply): Reply {
    const key = request.headers['Idempotency-Key'];
    if (!key || !/^[A-Za-z0-9_.:-]{8,100}$/.test(key)) {
      return failureWith(422, 'validation_error', [{ field: 'Idempotency-Key', message: 'required' }]);
    }
    const body = `${request.path} ${JSON.stringify(request.body)}`;
    const earlier = this.writes.get(key);
    if (earlier) {
      if (earlier.body !== body) return failure(422, 'idempotency_key_reused');
      return { status: earlier.status, body: { success: true, data: earlier.data }, headers: { 'Idempotency-Replayed': 'true' } };
    }
    const outcome = write();
    if (!('data' in outcome)) return outcome;
    this.writes.set(key, { body, status: outcome.status, data: outcome.data });
    return { status: outcome.status, body: { success: true, data: outcome.data } };
  }

  private readonly writes = new Map<string, { body: string; status: number; data: unknown }>();

  private addNote(leadId: number, request: RecordedRequest): Reply {
    return this.idempotentWrite(request, () => {
      const detail = this.detail(leadId);
      if (!detail) return failure(404, 'lead_not_found');
      const text = (request.body as { text?: string }).text ?? '';
      if (!text.trim() || text.length > 4000) return failure(422, 'invalid_request');
      this.nextNoteId += 1;
      const note: Note = {
        id: this.nextNoteId,
        text,
        createdAt: '2026-11-27T21:45:00Z',
        createdBy: { id: this.status.amoUserId ?? 0, name: this.status.amoUserName },
      };
      const entry = {
        id: `note:${note.id}`,
        kind: 'note' as const,
        type: 'common',
        text,
        createdAt: note.createdAt,
        createdBy: note.createdBy.id,
        createdByName: note.createdBy.name,
        details: {},
      };
      this.details.set(leadId, { ...detail, timeline: [entry, ...detail.timeline] });
      return { status: 201, data: note };
    });
  }

  private taskBoard(): TaskBoard {
    const { overdue, today, upcoming } = this.board;
    return { overdue, today, upcoming, counts: { overdue: overdue.length, today: today.length, upcoming: upcoming.length } };
  }

  private createTask(request: RecordedRequest): Reply {
    return this.idempotentWrite(request, () => {
      const input = request.body as NewTaskInput;
      const lead = this.findLead(input.leadId);
      if (!lead) return failure(404, 'lead_not_found');
      this.nextTaskId += 1;
      const task = sampleTask(this.nextTaskId, {
        text: input.text ?? (input.type === 'call' ? 'Зателефонувати клієнту' : 'Зустріч'),
        type: input.type,
        dueAt: input.dueAt,
        lead: { id: lead.id, name: lead.name },
      });
      this.board = { ...this.board, upcoming: [...this.board.upcoming, task] };
      return { status: 201, data: task };
    });
  }

  private completeTask(taskId: number, request: RecordedRequest): Reply {
    const result = (request.body as { result?: string }).result ?? '';
    if (!result.trim() || result.length > 2000) return failure(422, 'invalid_request');
    const done = this.completedTasks.find((task) => task.id === taskId);
    if (done) return envelope(done);
    const { overdue, today, upcoming } = this.board;
    const task = [...overdue, ...today, ...upcoming].find((candidate) => candidate.id === taskId);
    if (!task) return failure(404, 'task_not_found');
    const keep = (tasks: Task[]) => tasks.filter((candidate) => candidate.id !== taskId);
    this.board = { overdue: keep(overdue), today: keep(today), upcoming: keep(upcoming) };
    const completed = { ...task, isCompleted: true };
    this.completedTasks.push(completed);
    return envelope(completed);
  }

  /** `new EventSource(url)` of the app lands here: a ticket works once, like the backend's. */
  openStream(source: FakeEventSource): void {
    const url = new URL(source.url);
    const ticket = url.searchParams.get('ticket') ?? '';
    this.streams.push(source);
    if (!this.streamTickets.delete(ticket)) {
      source.fail();
      return;
    }
    source.open();
  }

  /** Streams the app holds open right now. */
  openStreams(): FakeEventSource[] {
    return this.streams.filter((source) => source.readyState === 1);
  }

  /** Sends an event to every open stream, with the next event id. */
  emit(type: string, data: Record<string, unknown> = {}): string {
    this.nextEventId += 1;
    const id = String(this.nextEventId);
    for (const source of this.openStreams()) source.deliver(type, JSON.stringify(data), id);
    return id;
  }

  /** The network went away: every open stream errors. */
  dropStreams(): void {
    for (const source of this.openStreams()) source.fail();
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

type Listener = (event: { data: string; lastEventId: string }) => void;

/**
 * The browser's `EventSource` as far as the app uses it, wired to the fake backend: opening
 * consumes the ticket in the URL; the backend pushes events and can drop the connection.
 */
export class FakeEventSource {
  static backend: FakeBackend | null = null;
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {
    // Like the browser: the connection opens after the constructor has returned.
    queueMicrotask(() => FakeEventSource.backend?.openStream(this));
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.readyState = 2;
  }

  open(): void {
    if (this.readyState === 2) return;
    this.readyState = 1;
    this.onopen?.({});
  }

  deliver(type: string, data: string, id: string): void {
    if (this.readyState !== 1) return;
    for (const listener of this.listeners.get(type) ?? []) listener({ data, lastEventId: id });
  }

  fail(): void {
    if (this.readyState === 2) return;
    this.readyState = 0;
    this.onerror?.({});
  }

  /** The `lastEventId` the app resumed from, if any. */
  get lastEventId(): string | null {
    return new URL(this.url).searchParams.get('lastEventId');
  }
}

/** Installs a fresh fake backend as the global `fetch` (and `EventSource`) for one test. */
export function installFakeBackend(): FakeBackend {
  const backend = new FakeBackend();
  global.fetch = jest.fn(backend.fetch) as unknown as typeof fetch;
  FakeEventSource.backend = backend;
  (globalThis as { EventSource?: unknown }).EventSource = FakeEventSource;
  return backend;
}
