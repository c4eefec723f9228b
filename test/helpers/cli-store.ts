/**
 * The set-up of a CLI test on a store: a temporary folder with a config (storage there, pilots 43334 and
 * 43333, the config mailboxes given) and the same store held open by the test process, as a running server
 * would hold it. Registers its beforeAll/afterAll; the folder is removed after the file's tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.js';

export interface CliStore {
  dir: string;
  storageDir: string;
  /** The config file's path. */
  config: string;
  /** The test process's own handle on the store (open between beforeAll and afterAll). */
  store(): SqliteStore;
}

/** `mailboxes`: YAML flow mappings, one per config mailbox. */
export function cliStoreFixture(prefix: string, mailboxes: readonly string[]): CliStore {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const storageDir = join(dir, 'data');
  const config = join(dir, 'vmpilot.yaml');
  writeFileSync(
    config,
    [`storage: { dir: ${storageDir} }`, 'services: { voicemail: ["43334"], attendant: ["43333"] }', 'mailboxes:', ...mailboxes.map((m) => `  - ${m}`)].join('\n'),
  );
  let store: SqliteStore | undefined;
  beforeAll(async () => {
    store = await openSqliteStore(storageDir);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    storageDir,
    config,
    store: () => {
      if (!store) throw new Error('the store is open only while the tests run');
      return store;
    },
  };
}
