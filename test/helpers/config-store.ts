/**
 * The store a vmpilot config file names, opened in this process as the CLI opens it: for tests that change the
 * store "from another host" (mark-heard.ts, mwi-leadership.test.ts) whatever engine the config selects.
 * FIXME(pgstore): SQLite under storage.dir until the PostgreSQL store is on main; then store/open.ts's
 * openConfiguredStore, which takes storage.url into account.
 */
import { loadConfig } from '../../src/config/load.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { MessageStore } from '../../src/store/types.js';

export async function openConfigStore(configFile: string): Promise<MessageStore> {
  const config = await loadConfig(configFile);
  return openSqliteStore(config.storage.dir, { maxMessages: config.voicemail.maxMessages, maxMinutes: config.voicemail.maxMinutes });
}
