/**
 * Directory sync (issue 12) against a real OpenLDAP (Debian slapd, test/helpers/slapd.ts) holding 1,000 users:
 * 997 good ones (numbers 30000-30996), one without a number, one whose number is not a number, one claiming
 * the number of a mailbox from the config file. The server's size limit is 500 and vmpilot binds as an
 * ordinary entry (the limit applies): only a paged search reads everyone.
 *
 * Covers, in order on the same store: a dry run (nothing written), the first sync (997 created, 3 skipped
 * with DN and reason, the config's mailbox untouched, paging used), a re-sync without change (no-op), a
 * rename, a number change (the same mailbox: messages follow), a removal (disabled, messages kept, out of the
 * attendant's dial-by-name directory), an ownership file of an older version imported into the store at start-up,
 * the scheduled sync of the serving process, a bad bind password through the CLI (exit 1, a clear message).
 * Also: random PINs mailed (a real SMTP sink) or listed for the administrator.
 * And TLS: StartTLS and ldaps:// with the site's CA file, and a clear error for an untrusted certificate.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client, SizeLimitExceededError } from 'ldapts';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specsFromConfig } from '../../src/admin/config-mailboxes.js';
import { MailboxDirectory } from '../../src/apps/attendant/directory.js';
import { examineConfigFile } from '../../src/config/load.js';
import type { LdapDirectoryConfig } from '../../src/config/directory-schema.js';
import type { Config } from '../../src/config/schema.js';
import { ownershipFile } from '../../src/directory/ownership.js';
import { openStore } from '../../src/server.js';
import { startDirectorySchedule } from '../../src/directory/schedule.js';
import { syncDirectory } from '../../src/directory/sync.js';
import { verifyPin } from '../../src/store/pin.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';
import { runCli } from '../helpers/cli-process.js';
import { LDAP_ADMIN, LDAP_PEOPLE, LDAP_SYNC, personLdif, startSlapd, type Slapd } from '../helpers/slapd.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';
import { newMessage } from '../helpers/store-fixture.js';
import { tlsFixture } from '../helpers/tls-fixture.js';

const GOOD = 997;
const number = (i: number): string => String(30000 + i);
const dnOf = (uid: string): string => `uid=${uid},${LDAP_PEOPLE}`;

function people(): string {
  let ldif = '';
  for (let i = 0; i < GOOD; i++) {
    const uid = `u${String(i).padStart(4, '0')}`;
    ldif += personLdif(uid, { cn: `Person ${i}`, givenName: `Given${i}`, sn: `Family${i}`, displayName: `Given${i} Family${i}`, telephoneNumber: number(i), mail: `${uid}@example.com` });
  }
  ldif += personLdif('nonumber', { cn: 'No Number', sn: 'Number' });
  ldif += personLdif('badnumber', { cn: 'Bad Number', sn: 'Number', telephoneNumber: 'call reception' });
  ldif += personLdif('yamlclash', { cn: 'Yaml Clash', sn: 'Clash', telephoneNumber: '27000' });
  return ldif;
}

let slapd: Slapd;
let dir: string;
let configFile: string;
let config: Config;
let store: SqliteStore;
let admin: Client;

function writeConfig(password: string): string {
  const file = join(dir, `vmpilot-${password}.yaml`);
  writeFileSync(
    file,
    [
      `storage: { dir: ${join(dir, 'data')} }`,
      'services: { voicemail: ["43334"], attendant: ["43333"] }',
      'mailboxes:',
      '  - { number: "27000", name: "From The Config", pin: "739164" }',
      'directory:',
      '  ldap:',
      `    url: ${slapd.url}`,
      `    bindDn: "${LDAP_SYNC.dn}"`,
      `    bindPassword: ${password}`,
      `    base: "${LDAP_PEOPLE}"`,
      '    preset: openldap',
      '    pageSize: 200',
      '    pinPolicy: default-must-change',
      '    defaultPin: "739164"',
    ].join('\n'),
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vmpilot-directory-'));
  slapd = await startSlapd(people(), { sizeLimit: 500, tls: tlsFixture() });
  configFile = writeConfig(LDAP_SYNC.password);
  const report = await examineConfigFile(configFile);
  if (!report.config) throw new Error(JSON.stringify(report.errors));
  config = report.config;
  store = await openSqliteStore(config.storage.dir);
  await store.provision(specsFromConfig(config));
  admin = new Client({ url: slapd.url });
  await admin.bind(LDAP_ADMIN.dn, LDAP_ADMIN.password);
}, 30_000);

afterAll(async () => {
  await admin?.unbind().catch(() => undefined);
  await store?.close();
  await slapd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('vmpilot directory sync against OpenLDAP (1,000 users)', () => {
  it('a dry run reports the creations and writes nothing', async () => {
    const report = await syncDirectory(store, config, { dryRun: true });
    expect(report.created).toHaveLength(GOOD);
    expect((await store.listMailboxes()).map((m) => m.number)).toEqual(['27000']);
    expect(await store.listDirectoryOwned()).toEqual([]);
  });

  it('an unpaged search as the sync user hits the server size limit (so the sync must page)', async () => {
    const client = new Client({ url: slapd.url });
    await client.bind(LDAP_SYNC.dn, LDAP_SYNC.password);
    await expect(client.search(LDAP_PEOPLE, { filter: '(objectClass=inetOrgPerson)', attributes: ['uid'] })).rejects.toBeInstanceOf(SizeLimitExceededError);
    await client.unbind();
  });

  it('the first sync creates a mailbox per good entry, in pages, and reports each broken entry with its DN', async () => {
    const report = await syncDirectory(store, config);
    expect(report.entries).toBe(GOOD + 3);
    expect(report.pages).toBeGreaterThanOrEqual(5);
    expect(report.created).toHaveLength(GOOD);
    const skipped = Object.fromEntries(report.skipped.map((s) => [s.dn, s.reason]));
    expect(Object.keys(skipped).sort()).toEqual([dnOf('badnumber'), dnOf('nonumber'), dnOf('yamlclash')].sort());
    expect(skipped[dnOf('nonumber')]).toMatch(/no telephoneNumber/);
    expect(skipped[dnOf('badnumber')]).toMatch(/"call reception" is not a number/);
    expect(skipped[dnOf('yamlclash')]).toMatch(/27000 is already mailbox 27000/);
    const m = await store.findMailbox(number(1));
    expect(m).toMatchObject({ name: 'Given1 Family1', email: 'u0001@example.com', mustChangePin: true, locked: false });
    expect(await store.findMailbox('27000')).toMatchObject({ name: 'From The Config' });
    expect(await store.listMailboxes()).toHaveLength(GOOD + 1);
  });

  it('a re-sync with no change in the directory changes nothing', async () => {
    const report = await syncDirectory(store, config);
    expect({ created: report.created.length, updated: report.updated.length, renumbered: report.renumbered.length, disabled: report.disabled.length }).toEqual({
      created: 0,
      updated: 0,
      renumbered: 0,
      disabled: 0,
    });
    expect(report.unchanged).toBe(GOOD);
  });

  it('a rename (displayName) updates the mailbox and the dial-by-name directory', async () => {
    const directory = new MailboxDirectory(store);
    expect((await directory.mailboxes()).find((m) => m.number === number(10))?.name).toBe('Given10 Family10');
    await admin.modify(dnOf('u0010'), [new Change({ operation: 'replace', modification: new Attribute({ type: 'displayName', values: ['Renamed Person'] }) })]);
    const report = await syncDirectory(store, config);
    expect(report.updated).toEqual([{ number: number(10), dn: dnOf('u0010'), changes: [{ field: 'name', from: 'Given10 Family10', to: 'Renamed Person' }] }]);
    expect((await directory.mailboxes()).find((m) => m.number === number(10))?.name).toBe('Renamed Person');
    directory.close();
  });

  it('a number change renumbers the same mailbox: its messages follow', async () => {
    const kept = await store.deposit(newMessage(store.tmpDir, { mailbox: number(20) }));
    await admin.modify(dnOf('u0020'), [new Change({ operation: 'replace', modification: new Attribute({ type: 'telephoneNumber', values: ['39020'] }) })]);
    const report = await syncDirectory(store, config);
    expect(report.renumbered).toEqual([{ from: number(20), to: '39020', dn: dnOf('u0020') }]);
    expect(report.created).toHaveLength(0);
    expect(await store.findMailbox(number(20))).toBeUndefined();
    expect((await store.listMessages('39020')).map((m) => m.id)).toEqual([kept.id]);
    expect((await syncDirectory(store, config)).renumbered).toHaveLength(0);
  });

  it('a user who left is disabled (locked, out of dial-by-name), never deleted: messages kept', async () => {
    const kept = await store.deposit(newMessage(store.tmpDir, { mailbox: number(30) }));
    await admin.del(dnOf('u0030'));
    const report = await syncDirectory(store, config);
    expect(report.disabled).toEqual([{ number: number(30), dn: dnOf('u0030'), reason: 'gone from the directory' }]);
    expect(await store.findMailbox(number(30))).toMatchObject({ locked: true, hiddenFromDirectory: true });
    expect((await store.listMessages(number(30))).map((m) => m.id)).toEqual([kept.id]);
    const directory = new MailboxDirectory(store);
    const listed = (await directory.mailboxes()).filter((m) => !m.hiddenFromDirectory).map((m) => m.number);
    expect(listed).not.toContain(number(30));
    directory.close();
    expect((await syncDirectory(store, config)).disabled).toHaveLength(0);
  });

  it('an ownership file of an older version is imported once at start-up: the mailboxes its sync created stay the directory\'s', async () => {
    const upgraded: Config = { ...config, storage: { ...config.storage, dir: join(dir, 'upgraded') } };
    // What the older version left: a mailbox its sync created, and the file that says the directory owns it.
    const old = await openSqliteStore(upgraded.storage.dir);
    await old.createMailbox({ number: number(1), name: 'Old Name', pin: '739164' });
    await old.close();
    const [entry] = (await admin.search(dnOf('u0001'), { scope: 'base', attributes: ['entryUUID'] })).searchEntries;
    const uuid = String(entry!.entryUUID);
    const file = ownershipFile(upgraded.storage.dir);
    writeFileSync(file, JSON.stringify({ version: 1, entries: { [uuid]: { number: number(1), dn: dnOf('u0001') } } }));
    const quiet = pino({ level: 'silent' });
    let started = await openStore(upgraded, quiet);
    try {
      expect(await started.store.listDirectoryOwned()).toEqual([{ entryId: uuid, number: number(1), dn: dnOf('u0001'), disabled: false }]);
      expect(existsSync(file)).toBe(false);
      expect(existsSync(`${file}.imported`)).toBe(true);
      const report = await syncDirectory(started.store, upgraded, { dryRun: true });
      // Owned: its name is brought up to date; not skipped as a number some other mailbox holds.
      expect(report.updated.find((u) => u.number === number(1))?.changes).toContainEqual({ field: 'name', from: 'Old Name', to: 'Given1 Family1' });
      expect(report.skipped.map((s) => s.dn)).not.toContain(dnOf('u0001'));
    } finally {
      await started.store.close();
    }
    // A restart: the ownership is the store's now (the renamed file is not read again).
    started = await openStore(upgraded, quiet);
    try {
      expect(await started.store.listDirectoryOwned()).toHaveLength(1);
    } finally {
      await started.store.close();
    }
  });

  it('with a schedule, the serving process syncs by itself and logs the report (counts, no PIN)', async () => {
    await admin.add(dnOf('newcomer'), { objectClass: 'inetOrgPerson', uid: 'newcomer', cn: 'New Comer', sn: 'Comer', telephoneNumber: '39999' });
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const scheduled = { ...config, directory: { ldap: { ...config.directory!.ldap, schedule: 0.005 } } };
    const schedule = startDirectorySchedule(store, scheduled, logger)!;
    try {
      const deadline = Date.now() + 10_000;
      while (!lines.some((l) => l.msg === 'directory sync done') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await schedule.stop();
    }
    // stop() waited for a sync in progress: the next test's sync does not find the lock held.
    expect(existsSync(join(config.storage.dir, 'directory-ldap.lock'))).toBe(false);
    expect(lines.find((l) => l.msg === 'directory sync done')).toMatchObject({ component: 'directory', created: 1, skipped: 3, pinsToHandOut: 0 });
    expect(await store.findMailbox('39999')).toMatchObject({ name: 'New Comer' });
  });

  it('random-emailed: each new user gets a PIN by mail that opens the mailbox; one without email is listed for the administrator', async () => {
    const sink = await startSmtpSink();
    try {
      await admin.add(dnOf('mailed'), { objectClass: 'inetOrgPerson', uid: 'mailed', cn: 'Mailed User', sn: 'User', telephoneNumber: '39998', mail: 'mailed@example.com' });
      await admin.add(dnOf('nomail'), { objectClass: 'inetOrgPerson', uid: 'nomail', cn: 'No Mail', sn: 'Mail', telephoneNumber: '39997' });
      const random: Config = {
        ...config,
        smtp: { host: '127.0.0.1', port: sink.port, secure: false, from: 'vmpilot@example.com' },
        directory: { ldap: { ...config.directory!.ldap, pinPolicy: 'random-emailed' } },
      };
      const report = await syncDirectory(store, random);
      expect(report.created.map((c) => c.number).sort()).toEqual(['39997', '39998']);
      expect(sink.mails.map((m) => m.to)).toEqual([['mailed@example.com']]);
      const mailedPin = /Its PIN is (\d+)/.exec(sink.mails[0]!.raw)?.[1];
      expect(report.pinsToHandOut).toEqual([{ number: '39997', pin: expect.stringMatching(/^\d{6}$/), why: 'no email address' }]);
      const pins = { '39998': mailedPin!, '39997': report.pinsToHandOut[0]!.pin };
      for (const [number, pin] of Object.entries(pins)) {
        expect(await verifyPin(pin, (await store.findMailbox(number))!.pinHash)).toBe(true);
      }
    } finally {
      await sink.close();
    }
  });

  it('one sync at a time: refused while a live process holds the lock, a dead one\'s lock taken over', async () => {
    const lock = join(config.storage.dir, 'directory-ldap.lock');
    const parent = process.ppid;
    writeFileSync(lock, String(parent));
    await expect(syncDirectory(store, config)).rejects.toThrow(`another directory sync is running (pid ${parent}`);
    const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    writeFileSync(lock, String(gone));
    expect((await syncDirectory(store, config)).created).toHaveLength(0);
    expect(existsSync(lock)).toBe(false);
  });

  describe('TLS', () => {
    const over = (ldap: Partial<LdapDirectoryConfig>): Config => ({ ...config, directory: { ldap: { ...config.directory!.ldap, ...ldap } } });

    it('StartTLS on ldap:// with the site CA reads the directory', async () => {
      const report = await syncDirectory(store, over({ startTls: true, caFile: tlsFixture().caFile }), { dryRun: true });
      expect(report.entries).toBeGreaterThan(GOOD);
    });

    it('ldaps:// with the site CA reads the directory', async () => {
      const report = await syncDirectory(store, over({ url: slapd.ldapsUrl!, caFile: tlsFixture().caFile }), { dryRun: true });
      expect(report.entries).toBeGreaterThan(GOOD);
    });

    it('ldaps:// with a certificate Node does not trust: a clear error', async () => {
      await expect(syncDirectory(store, over({ url: slapd.ldapsUrl! }), { dryRun: true })).rejects.toThrow(/self-signed certificate|unable to (get|verify)/);
    });
  });

  it('vmpilot directory sync --dry-run --json prints the report and exits 0', async () => {
    const run = await runCli('directory', 'sync', '--dry-run', '--json', '--config', configFile);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { dryRun: boolean; unchanged: number; skipped: unknown[] };
    expect(report).toMatchObject({ dryRun: true, unchanged: GOOD + 2, skipped: expect.any(Array) });
  }, 60_000);

  it('a wrong bind password: a clear error, exit 1, nothing changed', async () => {
    const before = (await store.listMailboxes()).length;
    const run = await runCli('directory', 'sync', '--config', writeConfig('wrong-password'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/bind as cn=sync,dc=example,dc=com to ldap:\/\/127\.0\.0\.1:\d+ refused: invalid credentials/);
    expect((await store.listMailboxes()).length).toBe(before);
  }, 60_000);
});
