/**
 * A throwaway OpenLDAP server (Debian's slapd) for the directory sync's tests: a slapd.conf in a temp dir (mdb
 * backend, suffix dc=example,dc=com), the entries loaded with slapadd BEFORE the server starts (thousands of
 * entries in about a second, where ldapadd over the wire takes much longer), then slapd on a free loopback port.
 *
 * Two identities: the rootdn (cn=admin: tests modify entries with it; slapd applies no size limit to it) and
 * an ordinary entry, cn=sync, that vmpilot binds as, so the server's `sizelimit` applies to its searches: with
 * a limit below the number of users, only a paged search (RFC 2696) can read them all. With `tls` (the
 * tls-fixture.ts certificate, valid for 127.0.0.1), ldap:// offers StartTLS and ldaps:// listens on a second port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort } from './stunnel.js';
import type { TlsFiles } from './tls-fixture.js';

export const LDAP_SUFFIX = 'dc=example,dc=com';
export const LDAP_PEOPLE = `ou=people,${LDAP_SUFFIX}`;
export const LDAP_ADMIN = { dn: `cn=admin,${LDAP_SUFFIX}`, password: 'admin-secret' };
export const LDAP_SYNC = { dn: `cn=sync,${LDAP_SUFFIX}`, password: 'sync-secret' };

const SBIN = '/usr/sbin';
const SCHEMAS = ['core', 'cosine', 'inetorgperson'];

export interface Slapd {
  url: string;
  /** With opts.tls: ldaps:// on a second port (ldap:// offers StartTLS then too). */
  ldapsUrl?: string;
  dir: string;
  stop(): Promise<void>;
}

/** One person entry as LDIF (inetOrgPerson); attributes with an undefined value are left out. */
export function personLdif(uid: string, attrs: Record<string, string | string[] | undefined>): string {
  const lines = [`dn: uid=${uid},${LDAP_PEOPLE}`, 'objectClass: inetOrgPerson', `uid: ${uid}`];
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  return `${lines.join('\n')}\n\n`;
}

function baseLdif(): string {
  return [
    `dn: ${LDAP_SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n`,
    `dn: ${LDAP_PEOPLE}\nobjectClass: organizationalUnit\nou: people\n`,
    `dn: ${LDAP_SYNC.dn}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: sync\nuserPassword: ${LDAP_SYNC.password}\n`,
    '',
  ].join('\n');
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts slapd with `people` (personLdif() text) loaded; `sizeLimit` caps what one unpaged search returns. */
export async function startSlapd(people: string, opts: { sizeLimit?: number; tls?: TlsFiles } = {}): Promise<Slapd> {
  const dir = mkdtempSync(join(tmpdir(), 'vmpilot-slapd-'));
  mkdirSync(join(dir, 'db'));
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      ...SCHEMAS.map((s) => `include /etc/ldap/schema/${s}.schema`),
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${join(dir, 'slapd.pid')}`,
      // As Active Directory's MaxPageSize: one search returns at most this many, a paged one any number in pages.
      `sizelimit size.soft=${opts.sizeLimit ?? 500} size.hard=${opts.sizeLimit ?? 500} size.prtotal=unlimited`,
      ...(opts.tls ? [`TLSCACertificateFile ${opts.tls.caFile}`, `TLSCertificateFile ${opts.tls.certFile}`, `TLSCertificateKeyFile ${opts.tls.keyFile}`] : []),
      'database mdb',
      'maxsize 1073741824',
      `suffix "${LDAP_SUFFIX}"`,
      `rootdn "${LDAP_ADMIN.dn}"`,
      `rootpw ${LDAP_ADMIN.password}`,
      `directory ${join(dir, 'db')}`,
      'access to attrs=userPassword by anonymous auth by * none',
      'access to * by * read',
      '',
    ].join('\n'),
  );
  const ldif = join(dir, 'data.ldif');
  writeFileSync(ldif, baseLdif() + people);
  const added = spawnSync(join(SBIN, 'slapadd'), ['-q', '-f', conf, '-l', ldif], { encoding: 'utf8' });
  if (added.status !== 0) throw new Error(`slapadd failed (${added.status}): ${added.stderr}`);
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = opts.tls ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
  const listen = [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : [])].join(' ');
  // -d: stay in the foreground (a child we can stop); level 0 logs nothing but fatal errors.
  const child: ChildProcess = spawn(join(SBIN, 'slapd'), ['-d', '0', '-f', conf, '-h', listen], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`slapd did not start (exit ${child.exitCode}): ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    ...(ldapsUrl ? { ldapsUrl } : {}),
    dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
