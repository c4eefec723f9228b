/**
 * A throwaway PostgreSQL server for tests: Debian's `postgresql` binaries (/usr/lib/postgresql/<v>/bin, the
 * newest version found), a fresh cluster in a temporary folder, one server per test file, a fresh database per
 * createDatabase() call, stopped (and its folder removed) in afterAll even when a test failed.
 *
 * - As root (our CI and containers), initdb and postgres refuse to run; they run as `nobody` (setpriv) in a
 *   folder chowned to it. As any other user they run as that user.
 * - fsync stays on (the default): the store's durability is what is tested, and a benchmark against a server
 *   that does not sync would lie. initdb itself runs --no-sync (the template cluster's durability is moot).
 * - TCP on 127.0.0.1 on a free port (port 0 cannot be asked of postgres: a free port is found and the start
 *   is retried on a clash); the unix socket goes in the temporary folder, not /var/run/postgresql.
 * - Authentication is `trust` for the superuser `postgres`: the URL needs no password.
 *
 * In a test file: postgresPerFile() (postgres.ts). Elsewhere (benchmarks): startPostgres() and destroy().
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const NOBODY = 65534;

export interface PostgresServer {
  /** The port on 127.0.0.1 (and listenAddresses). */
  readonly port: number;
  /** The temporary folder: data/ (the cluster), socket/ (the unix socket), log. */
  readonly dir: string;
  /** A URL to the `postgres` maintenance database (superuser, no password). */
  readonly adminUrl: string;
  /** Creates a fresh empty database and returns its postgres:// URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (fast shutdown: sessions are ended, the data is kept); idempotent. */
  stop(): Promise<void>;
  /** Starts it again after stop() or kill(), same port and data. */
  start(): Promise<void>;
  /** Stops then starts (clients see their connections closed). */
  restart(): Promise<void>;
  /** Kills the postmaster with SIGKILL (a crash; the next start recovers from the WAL). */
  kill(): Promise<void>;
  /** Stops the server and removes its folder; idempotent. */
  destroy(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Addresses to listen on besides the socket. Default ['127.0.0.1']. */
  listenAddresses?: readonly string[];
  /** Extra `-c name=value` settings. */
  settings?: Readonly<Record<string, string | number>>;
}

/** The newest PostgreSQL server's bin folder (Debian: /usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error('no PostgreSQL server under /usr/lib/postgresql/*/bin (Debian package postgresql; scripts/ensure-test-deps.sh)');
  return join(root, versions[0]!, 'bin');
}

/** Runs a PostgreSQL program as the unprivileged user (see the module comment). */
function asUnprivileged(program: string, args: readonly string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [program, [...args]];
  return ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', program, ...args]];
}

const childEnv = { ...process.env, LC_ALL: 'C', LANG: 'C', PGTZ: 'UTC' };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

let dbCounter = 0;

/** Initialises a cluster in a fresh temporary folder and starts a server on it. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-pg-'));
  const data = join(dir, 'data');
  const socketDir = dir;
  if (process.getuid?.() === 0) chownSync(dir, NOBODY, NOBODY);
  const [initProgram, initArgs] = asUnprivileged(join(bin, 'initdb'), [
    '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync',
  ]);
  try {
    execFileSync(initProgram, initArgs, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`initdb failed: ${stderr || (err as Error).message}`);
  }
  const listen = (options.listenAddresses ?? ['127.0.0.1']).join(',');
  const settings: Record<string, string | number> = {
    fsync: 'on',
    max_connections: 200,
    // The deposit benchmark writes ~8 GB an hour: no checkpoint storms on the default 1 GB.
    max_wal_size: '4GB',
    ...options.settings,
  };
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let port = 0;
  let log = '';

  const launch = async (): Promise<void> => {
    const args = ['-D', data, '-p', String(port), '-k', socketDir, '-c', `listen_addresses=${listen}`];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    const [program, argv] = asUnprivileged(join(bin, 'postgres'), args);
    log = '';
    const proc = spawn(program, argv, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr!.on('data', (chunk: Buffer) => {
      if (log.length < 64_000) log += chunk.toString();
    });
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const dead = exited.then(() => {
      throw new Error(`postgres exited at start: ${log.trim().split('\n').slice(-5).join(' | ')}`);
    });
    await Promise.race([waitReady(port, 30_000), dead]);
    dead.catch(() => undefined);
  };

  const startOnFreePort = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      port = port || (await freePort());
      try {
        await launch();
        return;
      } catch (err) {
        // Someone took the port between freePort() and postgres' bind: take another one.
        if (attempt < 4 && /could not (bind|create)|Address already in use/i.test(String((err as Error).message))) {
          port = 0;
          await exited;
          continue;
        }
        throw err;
      }
    }
  };

  const signalAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    // Through setpriv the pid is postgres' own (setpriv execs), so the signal reaches the postmaster.
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const onExit = (): void => {
    child?.kill('SIGQUIT');
  };
  process.once('exit', onExit);

  try {
    await startOnFreePort();
  } catch (err) {
    await signalAndWait('SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', onExit);
    throw err;
  }
  let destroyed = false;

  const server: PostgresServer = {
    get port() {
      return port;
    },
    dir,
    get adminUrl() {
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
    },
    async createDatabase(name) {
      const db = name ?? `t_${process.pid}_${++dbCounter}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new TypeError(`database name "${db}" is not a plain identifier`);
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${db}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${db}`;
    },
    stop: () => signalAndWait('SIGINT'),
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      await launch();
    },
    async restart() {
      await server.stop();
      await server.start();
    },
    kill: () => signalAndWait('SIGKILL'),
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await signalAndWait('SIGINT');
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Polls until the server accepts a connection (or throws after timeoutMs). */
async function waitReady(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > end) throw new Error(`postgres on port ${port} not ready after ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

