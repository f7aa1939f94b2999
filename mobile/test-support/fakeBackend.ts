import type { ConnectionStatus, Lead, User } from '@/api/types';
import { config } from '@/config';

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

function envelope(data: unknown): Reply {
  return { status: 200, body: { success: true, data } };
}

function failure(status: number, code: string, message = code): Reply {
  return { status, body: { success: false, error: { code, message, requestId: 'req-test' } } };
}

export class FakeBackend {
  readonly requests: RecordedRequest[] = [];
  token = 'app-jwt-for-tests';
  user: User = broker;
  password = 'correct-horse';
  status: ConnectionStatus = notConnected;
  leads: Lead[] = sampleLeads;
  /** What a successful exchange-code turns the status into. */
  statusAfterExchange: ConnectionStatus = connected;
  private readonly queued = new Map<string, Reply[]>();
  private readonly pending = new Map<string, Promise<void>>();

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
      case 'POST /integrations/amo-crm/disconnect':
        this.status = notConnected;
        return { status: 200, body: { success: true, message: 'Disconnected.' } };
      case 'GET /crm/leads':
        if (!crmAllowed) return failure(403, 'forbidden');
        if (this.status.state === 'not_connected') return failure(409, 'amo_not_connected');
        if (this.status.state === 'reauth_required') return failure(409, 'amo_reauth_required');
        return envelope({ items: this.leads, page: 1, hasMore: false });
      default:
        return failure(404, 'not_found');
    }
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
