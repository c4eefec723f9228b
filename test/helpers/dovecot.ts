/**
 * A throwaway Dovecot IMAP server for tests (Debian `dovecot-imapd`): its own dovecot.conf in a temporary
 * folder (base_dir, state_dir, log, maildirs all inside it), users from a passwd-file, a master user for the
 * site-wide login (`user*master`), IMAP in cleartext on 127.0.0.1 on a free port, run in the foreground (-F)
 * as a child process. stop()/start() keep the mail (an outage); destroy() removes everything.
 *
 * As root: Dovecot's own processes drop to its system users (default_internal_user dovecot,
 * default_login_user dovenull, made by the Debian package); the mail belongs to `nobody` (uid 65534), the
 * passwd-file's uid for every user, and the folder is chowned to it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

const NOBODY = 65534;
export const DOVECOT = '/usr/sbin/dovecot';
export const MASTER_USER = 'vmpilot';
export const MASTER_PASSWORD = 'master-secret';

export interface DovecotServer {
  readonly port: number;
  readonly dir: string;
  /** Every user's password. */
  readonly password: string;
  /** The log file's text (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function accepting(port: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function config(dir: string, port: number): string {
  return `
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = vmpilot-test-${port}
protocols = imap
listen = 127.0.0.1
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_master_user_separator = *
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = ${dir}/masters
  master = yes
}
passdb {
  driver = passwd-file
  args = ${dir}/users
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}

/** Starts Dovecot with these users (IMAP user names; the tests use email addresses), all with one password. */
export async function startDovecot(users: readonly string[]): Promise<DovecotServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-dovecot-'));
  const password = 'secret';
  const port = await freePort();
  mkdirSync(join(dir, 'mail'));
  writeFileSync(join(dir, 'users'), users.map((u) => `${u}:{PLAIN}${password}:${NOBODY}:${NOBODY}::${dir}/mail/${u}::\n`).join(''));
  writeFileSync(join(dir, 'masters'), `${MASTER_USER}:{PLAIN}${MASTER_PASSWORD}\n`);
  writeFileSync(join(dir, 'dovecot.conf'), config(dir, port));
  chownSync(join(dir, 'mail'), NOBODY, NOBODY);
  // mkdtemp makes it 0700: Dovecot's auth process (user dovecot) and mail processes (nobody) must reach inside.
  chmodSync(dir, 0o755);
  let child: ChildProcess | undefined;

  const server: DovecotServer = {
    port,
    dir,
    password,
    log: () => {
      try {
        return readFileSync(join(dir, 'dovecot.log'), 'utf8');
      } catch {
        return '';
      }
    },
    async start() {
      if (child) return;
      const proc = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      child = proc;
      proc.once('exit', () => {
        if (child === proc) child = undefined;
      });
      if (!(await accepting(port, 10_000))) {
        await server.stop();
        throw new Error(`dovecot did not start: ${stderr}\n${server.log()}`);
      }
    },
    async stop() {
      const proc = child;
      if (!proc) return;
      child = undefined;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** Runs fn as a mail client of `user` (the user's own login), with `folder` open; logs out after. */
export async function withImapUser<T>(dovecot: DovecotServer, user: string, fn: (c: ImapFlow) => Promise<T>, folder = 'INBOX'): Promise<T> {
  const c = new ImapFlow({ host: '127.0.0.1', port: dovecot.port, secure: false, doSTARTTLS: false, auth: { user, pass: dovecot.password }, logger: false } as ConstructorParameters<typeof ImapFlow>[0]);
  await c.connect();
  try {
    await c.mailboxOpen(folder);
    return await fn(c);
  } finally {
    await c.logout().catch(() => c.close());
  }
}

/** Polls an async probe every 100 ms until it gives a value (a failed probe counts as none yet). */
export async function untilImap<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000, context: () => string = () => ''): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
