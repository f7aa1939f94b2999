/**
 * Starts the whole product for browser tests: the amoCRM emulator, the backend (temporary
 * SQLite database, settings from the environment) and the app's web build behind the SPA server,
 * each on a free loopback port, and stops all of them again (process groups, even on failure).
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

type Env = Record<string, string | undefined>;

const MOBILE_ROOT = path.resolve(__dirname, '..');
const REPO_ROOT = path.resolve(MOBILE_ROOT, '..');
const START_TIMEOUT_MS = 90_000;

export type AmoUser = {
  id: number;
  name: string;
  login: string;
  password: string;
  role: 'admin' | 'broker';
  account_id: number;
  account_subdomain: string;
  base_domain: string;
};

export type AppUserSpec = { email: string; password: string; name: string; role?: 'broker' | 'admin' };

export type Stack = {
  emulatorUrl: string;
  backendUrl: string;
  apiUrl: string;
  appUrl: string;
  appUser: { email: string; password: string; name: string };
  /** The amoCRM user (a broker of the reforyou account) the app user is. */
  broker: AmoUser;
  amoUsers: AmoUser[];
  /** Moves every unfinished connect flow's expiry into the past (the backend's clock for flows). */
  expirePendingFlows(): void;
  /** An amoCRM admin switches the integration off in the broker's account (signed hook to us). */
  disableIntegration(accountId: number): Promise<void>;
  /** The agency registers one more broker (or, with `role: 'admin'`, an admin) in the app (`foryou users create`). */
  /** Creates an app user with the `foryou` command, without blocking the test's event loop. */
  createAppUser(user: AppUserSpec): Promise<void>;
  stop(): Promise<void>;
};

/** [executable, ...args] for a console script of the Python workspace. */
function pythonCommand(script: string): string[] {
  const venvBin = path.join(REPO_ROOT, '.venv', 'bin', script);
  if (existsSync(venvBin)) return [venvBin];
  return [process.env.UV || 'uv', 'run', '--frozen', script];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

type Managed = { name: string; child: ChildProcess; exited: Promise<void> };

const running = new Set<Managed>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the whole group: `uv run` and uvicorn have children
  } catch {
    // already gone
  }
}

// Last resort if the test runner dies before afterAll: nothing we started outlives us.
process.once('exit', () => {
  for (const managed of running) killGroup(managed.child, 'SIGKILL');
});

async function stopManaged(managed: Managed): Promise<void> {
  killGroup(managed.child, 'SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 8000).unref());
  if ((await Promise.race([managed.exited.then(() => 'exited' as const), timeout])) === 'timeout') {
    killGroup(managed.child, 'SIGKILL');
    await managed.exited;
  }
  running.delete(managed);
}

/** Spawns a process in its own group, logging to `<logDir>/<name>.log`; resolves when `ready` matches. */
function startProcess(
  name: string,
  command: string[],
  options: { env?: Env; cwd?: string; logDir: string; ready: RegExp },
): Promise<{ managed: Managed; match: RegExpMatchArray }> {
  const [executable, ...args] = command;
  if (!executable) throw new Error(`${name}: empty command`);
  const child = spawn(executable, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const managed: Managed = { name, child, exited };
  running.add(managed);
  const log = createWriteStream(path.join(options.logDir, `${name}.log`));

  return new Promise((resolve, reject) => {
    let output = '';
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`${name} not ready after ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    function fail(error: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stopManaged(managed).finally(() =>
        reject(new Error(`${error.message}\n--- ${name} output ---\n${output.slice(-4000)}`)),
      );
    }
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      if (settled) return;
      output += chunk.toString('utf8');
      const match = output.match(options.ready);
      if (match) {
        settled = true;
        clearTimeout(timer);
        resolve({ managed, match });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => fail(new Error(`${name} exited early (${code ?? signal})`)));
    child.once('error', (error) => fail(error));
  });
}

function runToCompletion(command: string[], env: Env): string {
  const [executable, ...args] = command;
  const result = spawnSync(executable as string, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: START_TIMEOUT_MS,
  });
  if (result.status !== 0) {
    throw new Error(`${command.join(' ')} failed (${result.status ?? result.signal}):\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** Like runToCompletion, but the event loop keeps running (sockets stay serviced). */
function runInBackground(command: string[], env: Env): Promise<string> {
  const [executable, ...args] = command;
  return new Promise((resolve, reject) => {
    execFile(
      executable as string,
      args,
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: START_TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${command.join(' ')} failed (${error.code ?? error.signal}):\n${stderr}${stdout}`));
        else resolve(stdout);
      },
    );
  });
}

export async function startStack({ distDir, logDir }: { distDir: string; logDir: string }): Promise<Stack> {
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'foryou-e2e-'));
  const dbPath = path.join(tmpDir, 'foryou.sqlite3');
  const started: Managed[] = [];
  const stop = async () => {
    for (const managed of started.reverse()) await stopManaged(managed);
    rmSync(tmpDir, { recursive: true, force: true });
  };

  try {
    const [backendPort, appPort] = [await freePort(), await freePort()];
    const backendUrl = `http://127.0.0.1:${backendPort}`;
    const appUrl = `http://127.0.0.1:${appPort}`;
    const clientId = `e2e-${randomBytes(6).toString('hex')}`;
    const clientSecret = randomBytes(24).toString('hex');
    const redirectUri = `${backendUrl}/api/v1/integrations/amo-crm/oauth/callback`;

    const emulator = await startProcess(
      'emulator',
      [
        ...pythonCommand('amocrm-emulator'),
        '--host', '127.0.0.1', '--port', '0', '--control',
        '--client-id', clientId, '--client-secret', clientSecret, '--redirect-uri', redirectUri,
        '--disable-hook-url', `${backendUrl}/api/v1/integrations/amo-crm/hooks/disabled`,
      ],
      { logDir, ready: /amocrm-emulator listening on (http:\/\/\S+)/ },
    );
    started.push(emulator.managed);
    const emulatorUrl = emulator.match[1] as string;

    const backendEnv: Env = {
      FORYOU_DATABASE_URL: `sqlite+aiosqlite:///${dbPath}`,
      FORYOU_PUBLIC_URL: backendUrl,
      FORYOU_JWT_SECRET: randomBytes(32).toString('hex'),
      FORYOU_ENCRYPTION_KEYS: `e2e:${randomBytes(32).toString('base64')}`,
      FORYOU_AMOCRM_CLIENT_ID: clientId,
      FORYOU_AMOCRM_CLIENT_SECRET: clientSecret,
      FORYOU_AMOCRM_REDIRECT_URI: redirectUri,
      FORYOU_AMOCRM_UPSTREAM_URL: emulatorUrl,
      FORYOU_WEB_RETURN_URL: `${appUrl}/amo-crm/callback`,
      FORYOU_CORS_ORIGINS: appUrl,
      FORYOU_LOG_JSON: 'true',
      // Live updates: no amoCRM admin is connected, so the backend follows the account through
      // the events poll; run it in-process and often, so a change in amoCRM reaches the app in
      // seconds rather than a minute.
      FORYOU_EMBEDDED_WORKER: 'true',
      FORYOU_WORKER_INTERVAL_SECONDS: '1',
      FORYOU_EVENTS_POLL_SECONDS: '1',
    };
    const amoUsers = ((await (await fetch(`${emulatorUrl}/_emulator/users`)).json()) as { users: AmoUser[] }).users;

    const broker = amoUsers.find((user) => user.role === 'broker' && user.account_subdomain === 'reforyou');
    if (!broker) throw new Error('the emulator has no broker in the reforyou account');

    runToCompletion([...pythonCommand('foryou'), 'db', 'upgrade'], backendEnv);
    // Asynchronous on purpose: a blocked event loop lets the backend close the test's idle
    // keep-alive connections unseen, and the next fetch then fails on a dead socket.
    const createAppUser = async (user: AppUserSpec): Promise<void> => {
      await runInBackground(
        [...pythonCommand('foryou'), 'users', 'create', '--email', user.email, '--password', user.password, '--role', user.role ?? 'broker', '--name', user.name],
        backendEnv,
      );
    };
    // The agency registers each broker in the app under the same name as in amoCRM.
    const appUser = { email: 'broker.e2e@foryou.test', password: randomBytes(12).toString('hex'), name: broker.name };
    await createAppUser(appUser);

    // The backend runs through the one Python helper `make demo`, the benchmarks and the
    // lifecycle tests use (scripts/foryou_process.py): it prints its ready line once /readyz
    // answers, and the server stays in this process group, so stopping the group stops it.
    const backend = await startProcess(
      'backend-process',
      [
        ...pythonCommand('python'),
        '-m', 'scripts.foryou_process', 'serve',
        '--host', '127.0.0.1', '--port', String(backendPort),
        '--log-file', path.join(logDir, 'backend.log'),
      ],
      { env: backendEnv, logDir, ready: /foryou ready on (http:\/\/\S+)/ },
    );
    started.push(backend.managed);

    const app = await startProcess(
      'app',
      [process.execPath, path.join(MOBILE_ROOT, 'e2e', 'spa-server.mjs'), '--dir', distDir, '--port', String(appPort), '--api-url', `${backendUrl}/api/v1`],
      { cwd: MOBILE_ROOT, logDir, ready: /spa-server listening on (http:\/\/\S+)/ },
    );
    started.push(app.managed);

    const expirePendingFlows = () => {
      runToCompletion(
        [
          ...pythonCommand('python'),
          '-c',
          'import sqlite3, sys\n' +
            'db = sqlite3.connect(sys.argv[1])\n' +
            "db.execute(\"UPDATE amocrm_oauth_flows SET expires_at = '2000-01-01 00:00:00.000000' WHERE used_at IS NULL\")\n" +
            'db.commit()\n',
          dbPath,
        ],
        {},
      );
    };

    const disableIntegration = async (accountId: number) => {
      const response = await fetch(`${emulatorUrl}/_emulator/disable-hook`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_id: clientId, account_id: accountId }),
      });
      const body = (await response.json()) as { status?: number };
      if (!response.ok || body.status !== 200) {
        throw new Error(`disable hook: emulator ${response.status}, backend answered ${body.status}`);
      }
    };

    return {
      emulatorUrl,
      backendUrl,
      apiUrl: `${backendUrl}/api/v1`,
      appUrl,
      appUser,
      broker,
      amoUsers,
      expirePendingFlows,
      disableIntegration,
      createAppUser,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
