/**
 * Directory sync of 10,000 entries (issue 12: "directory sync of 10,000 entries (seconds)"): a throwaway slapd
 * (test/helpers/slapd.ts; size limit 500, so the search is paged, 500 a page as seed 004 does) and a fresh
 * SQLite store; `syncDirectory` as `vmpilot directory sync` runs it. Prints the seconds of the first sync (10,000
 * mailboxes created, default-must-change PIN: one hash) and of a re-sync with no change, and the last rename.
 *
 * Run: npx tsx bench/directory-sync.ts     ENTRIES=10000 by default (~10-30 s)
 *      PIN_POLICY=random-emailed: a random PIN per new mailbox (one scrypt hash each, four at a time; no smtp,
 *      so every PIN lands in the report): what a first sync costs under that policy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { parseConfig } from '../src/config/load.js';
import { syncDirectory } from '../src/directory/sync.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { LDAP_ADMIN, LDAP_PEOPLE, LDAP_SYNC, personLdif, startSlapd } from '../test/helpers/slapd.js';

const ENTRIES = Number(process.env.ENTRIES ?? 10_000);
const PIN_POLICY = process.env.PIN_POLICY === 'random-emailed' ? 'random-emailed' : 'default-must-change';

let ldif = '';
for (let i = 0; i < ENTRIES; i++) {
  const uid = `u${i}`;
  ldif += personLdif(uid, { cn: `Person ${i}`, sn: `Family${i}`, givenName: `Given${i}`, telephoneNumber: String(100000 + i), mail: `${uid}@example.com` });
}
const dir = mkdtempSync(join(tmpdir(), 'vmpilot-bench-directory-'));
const t0 = performance.now();
const slapd = await startSlapd(ldif, { sizeLimit: 500 });
console.log(`slapd with ${ENTRIES} entries (slapadd + start): ${((performance.now() - t0) / 1000).toFixed(2)} s`);
try {
  const config = parseConfig(
    [
      `storage: { dir: ${join(dir, 'data')} }`,
      'directory:',
      '  ldap:',
      `    url: ${slapd.url}`,
      `    bindDn: "${LDAP_SYNC.dn}"`,
      `    bindPassword: ${LDAP_SYNC.password}`,
      `    base: "${LDAP_PEOPLE}"`,
      '    pageSize: 500',
      `    pinPolicy: ${PIN_POLICY}`,
      '    defaultPin: "739164"',
    ].join('\n'),
    dir,
  );
  const store = await openSqliteStore(config.storage.dir);
  const first = await syncDirectory(store, config);
  console.log(`first sync (${PIN_POLICY}): ${first.created.length} created from ${first.entries} entries in ${first.pages} pages: ${first.seconds.toFixed(2)} s`);
  const again = await syncDirectory(store, config);
  console.log(`re-sync, no change: ${again.unchanged} unchanged, ${again.created.length + again.updated.length} changed: ${again.seconds.toFixed(2)} s`);
  const admin = new Client({ url: slapd.url });
  await admin.bind(LDAP_ADMIN.dn, LDAP_ADMIN.password);
  await admin.modify(`uid=u1,${LDAP_PEOPLE}`, [new Change({ operation: 'replace', modification: new Attribute({ type: 'cn', values: ['Renamed'] }) })]);
  await admin.unbind();
  const rename = await syncDirectory(store, config);
  console.log(`re-sync, one rename: ${rename.updated.length} updated: ${rename.seconds.toFixed(2)} s`);
  await store.close();
} finally {
  await slapd.stop();
  rmSync(dir, { recursive: true, force: true });
}
