import type { AdminPage, AdminUser, AgencyConnection, Broker, BrokerEvent, User } from '@/api/types';

import { envelope, failure, type RecordedRequest, type Reply } from './fakeBackend';

/** The agency's admin, as `/auth/me` describes them. */
export const adminUser: User = {
  id: '9a1f0c3e-6b2d-4f7a-8e15-2c4b6d8f0a11',
  email: 'admin@foryou.test',
  name: 'Ірина Адмін',
  role: 'ADMIN',
  status: 'ACTIVE',
};

function brokerRow(overrides: Partial<Broker> & Pick<Broker, 'userId' | 'email' | 'name' | 'state'>): Broker {
  return {
    role: 'BROKER',
    userStatus: 'ACTIVE',
    reason: null,
    domain: null,
    amoUserId: null,
    amoUserName: null,
    lastRefreshedAt: null,
    lastError: null,
    lastErrorAt: null,
    connectedSince: null,
    reconnectRequested: false,
    reconnectNote: null,
    lastActiveAt: null,
    ...overrides,
  };
}

export const sampleBrokers: Broker[] = [
  brokerRow({
    userId: '5b3c7a52-0d7c-4d5e-9a61-1d0c3f1b2a01',
    email: 'olena@foryou.test',
    name: 'Олена Коваль',
    state: 'active',
    domain: 'reforyou.amocrm.ru',
    amoUserId: 7001,
    amoUserName: 'Олена Коваль (amoCRM)',
    lastRefreshedAt: '2026-11-27T20:00:00Z',
    connectedSince: '2026-11-01T09:00:00Z',
    lastActiveAt: '2026-11-30T09:05:00Z',
  }),
  brokerRow({
    userId: '5b3c7a52-0d7c-4d5e-9a61-1d0c3f1b2a02',
    email: 'petro@foryou.test',
    name: 'Петро Шевчук',
    state: 'reauth_required',
    reason: 'refresh_revoked',
    domain: 'reforyou.amocrm.ru',
    amoUserId: 7002,
    lastRefreshedAt: '2026-11-27T20:00:00Z',
    lastError: 'refresh_revoked',
    lastErrorAt: '2026-11-28T08:00:00Z',
  }),
  brokerRow({
    userId: '5b3c7a52-0d7c-4d5e-9a61-1d0c3f1b2a03',
    email: 'ivan@foryou.test',
    name: 'Іван Бондар',
    state: 'never_connected',
  }),
];

/** Brokers enough for several pages, all never connected. */
export function manyBrokers(count: number): Broker[] {
  return Array.from({ length: count }, (_, index) => {
    const n = String(index + 1).padStart(3, '0');
    return brokerRow({
      userId: `6c4d8b63-1e8d-4e6f-8b72-2e1d4f2c3${n}`,
      email: `broker${n}@foryou.test`,
      name: `Брокер ${n}`,
      state: 'never_connected',
    });
  });
}

function eventsOf(userId: string): BrokerEvent[] {
  return [
    { id: `${userId.slice(0, 30)}000002`, kind: 'refresh_failed', reason: 'refresh_revoked', accountId: 31920194, actorUserId: null, createdAt: '2026-11-28T08:00:00Z' },
    { id: `${userId.slice(0, 30)}000001`, kind: 'connected', reason: null, accountId: 31920194, actorUserId: null, createdAt: '2026-11-01T09:00:00Z' },
  ];
}

export const noAgency: AgencyConnection = {
  health: 'none',
  source: null,
  domain: null,
  accountId: null,
  amoUserId: null,
  amoUserName: null,
  expiresAt: null,
  tokenLast4: null,
  lastCheckedAt: null,
  expiringSoon: false,
};

export const activeAgency: AgencyConnection = {
  health: 'active',
  source: 'long_lived_token',
  domain: 'reforyou.amocrm.ru',
  accountId: 31920194,
  amoUserId: 7000,
  amoUserName: 'Адміністратор amoCRM',
  expiresAt: '2027-11-28T00:00:00Z',
  tokenLast4: 'k9Qz',
  lastCheckedAt: '2026-11-28T08:00:00Z',
  expiringSoon: false,
};

/** The long-lived token the fake's amoCRM accepts; anything else is `agency_token_invalid`. */
export const VALID_AGENCY_TOKEN = 'eyJ.valid-long-lived.k9Qz';
/** What `POST /admin/users` generates when no password is given. */
export const GENERATED_PASSWORD = 'Tq7-vX2m-Lp9s';

function paged<T>(items: T[], query: Record<string, string>): Reply {
  const page = Number(query.page ?? '1');
  const limit = Number(query.limit ?? '25');
  const body: AdminPage<T> = {
    items: items.slice((page - 1) * limit, page * limit),
    page,
    limit,
    total: items.length,
    hasMore: items.length > page * limit,
  };
  return envelope(body);
}

function matches(text: string | null, q: string | undefined): boolean {
  return !q || (text ?? '').toLowerCase().includes(q.toLowerCase());
}

/** `/admin/*` of the fake backend: in-memory brokers, timelines, the agency connection and users. */
export class FakeAdmin {
  brokers: Broker[] = sampleBrokers.map((broker) => ({ ...broker }));
  readonly events = new Map<string, BrokerEvent[]>();
  agency: AgencyConnection = noAgency;
  users: AdminUser[] = [
    { id: adminUser.id, email: adminUser.email, name: adminUser.name, role: 'ADMIN', status: 'ACTIVE', createdAt: '2026-10-01T09:00:00Z' },
    ...sampleBrokers.map((broker, index) => ({
      id: broker.userId,
      email: broker.email,
      name: broker.name,
      role: 'BROKER',
      status: 'ACTIVE' as const,
      createdAt: `2026-10-0${index + 2}T09:00:00Z`,
    })),
  ];
  /** Names the agency connection's users catalogue fills in (by amoCRM user id). */
  catalogueNames = new Map<number, string>([[7002, 'Петро Шевчук (amoCRM)']]);

  constructor(private readonly actor: () => User) {}

  timeline(userId: string): BrokerEvent[] {
    if (!this.events.has(userId)) this.events.set(userId, eventsOf(userId));
    return this.events.get(userId) as BrokerEvent[];
  }

  route(request: RecordedRequest): Reply {
    const { method, path, query } = request;
    if (method === 'GET' && path === '/admin/brokers') {
      const found = this.brokers.filter(
        (broker) =>
          (!query.state || broker.state === query.state) &&
          (matches(broker.email, query.q) || matches(broker.name, query.q) || matches(broker.amoUserName, query.q)),
      );
      return paged(found, query);
    }
    const brokerPath = /^\/admin\/brokers\/([^/]+)\/(events|unlink|request-reconnect)$/.exec(path);
    if (brokerPath) {
      const broker = this.brokers.find((candidate) => candidate.userId === brokerPath[1]);
      if (!broker) return failure(404, 'not_found');
      return this.brokerAction(request, broker, brokerPath[2] as string);
    }
    if (path === '/admin/amo-crm/agency-connection') return this.agencyRoute(request);
    if (method === 'POST' && path === '/admin/amo-crm/agency-connection/use-my-connection') {
      return failure(400, 'agency_token_not_admin');
    }
    if (method === 'GET' && path === '/admin/users') {
      const found = this.users.filter(
        (user) => (!query.state || user.status === query.state) && (matches(user.email, query.q) || matches(user.name, query.q)),
      );
      return paged(found, query);
    }
    if (method === 'POST' && path === '/admin/users') return this.createUser(request);
    const block = /^\/admin\/users\/([^/]+)\/(block|unblock)$/.exec(path);
    if (method === 'POST' && block) {
      const user = this.users.find((candidate) => candidate.id === block[1]);
      if (!user) return failure(404, 'not_found');
      if (block[2] === 'block' && user.id === this.actor().id) return failure(409, 'cannot_block_self');
      user.status = block[2] === 'block' ? 'BLOCKED' : 'ACTIVE';
      return envelope(user);
    }
    return failure(404, 'not_found');
  }

  private brokerAction(request: RecordedRequest, broker: Broker, action: string): Reply {
    const record = (kind: string) =>
      this.timeline(broker.userId).unshift({
        id: `${broker.userId.slice(0, 30)}${String(this.timeline(broker.userId).length + 1).padStart(6, '0')}`,
        kind,
        reason: null,
        accountId: 31920194,
        actorUserId: this.actor().id,
        createdAt: '2026-11-28T10:00:00Z',
      });
    if (request.method === 'GET' && action === 'events') return paged(this.timeline(broker.userId), request.query);
    if (request.method === 'POST' && action === 'unlink') {
      const had = broker.state === 'active' || broker.state === 'reauth_required' || broker.state === 'revoked';
      Object.assign(broker, { state: 'disconnected', reason: null, connectedSince: null });
      record('unlinked');
      return { status: 200, body: { success: true, message: had ? 'Connection ended.' : 'Nothing to end.' } };
    }
    if (request.method === 'POST' && action === 'request-reconnect') {
      if (broker.role !== 'BROKER' && broker.role !== 'ADMIN') return failure(409, 'not_a_crm_user');
      const note = (request.body as { note?: string } | undefined)?.note ?? null;
      Object.assign(broker, { reconnectRequested: true, reconnectNote: note });
      record('reconnect_requested');
      return { status: 200, body: { success: true, message: 'The broker will be asked to connect again.' } };
    }
    return failure(404, 'not_found');
  }

  private agencyRoute(request: RecordedRequest): Reply {
    if (request.method === 'GET') return envelope(this.agency);
    if (request.method === 'DELETE') {
      this.agency = noAgency;
      return { status: 200, body: { success: true, message: 'Removed 1 agency connection(s).' } };
    }
    const body = request.body as { domain?: string; token?: string };
    if (!/^[a-z0-9-]+\.amocrm\.(ru|com)$/.test(body.domain ?? '')) return failure(400, 'agency_domain_invalid');
    if (body.token !== VALID_AGENCY_TOKEN) return failure(400, 'agency_token_invalid');
    this.agency = { ...activeAgency, domain: body.domain ?? null };
    // Like the backend: the catalogue names the connected brokers at once.
    for (const broker of this.brokers) {
      const name = broker.amoUserId === null ? undefined : this.catalogueNames.get(broker.amoUserId);
      if (name) broker.amoUserName = name;
    }
    return envelope(this.agency);
  }

  private createUser(request: RecordedRequest): Reply {
    const body = request.body as { email: string; name: string; password?: string };
    if (this.users.some((user) => user.email === body.email.toLowerCase())) return failure(409, 'email_taken');
    const user: AdminUser = {
      id: `7d5e9c74-2f9e-4f70-9c83-${String(this.users.length).padStart(12, '0')}`,
      email: body.email.toLowerCase(),
      name: body.name,
      role: 'BROKER',
      status: 'ACTIVE',
      createdAt: '2026-11-28T10:00:00Z',
    };
    this.users.push(user);
    this.brokers.push(brokerRow({ userId: user.id, email: user.email, name: user.name, state: 'never_connected' }));
    return { status: 201, body: { success: true, data: { user, oneTimePassword: body.password ? null : GENERATED_PASSWORD } } };
  }
}
