/**
 * The store a vmpilot config file names, opened in this process as the CLI opens it (store/open.ts: storage.url's
 * PostgreSQL, else SQLite under storage.dir): for tests that change the store "from another host"
 * (mark-heard.ts, mwi-leadership.test.ts) whatever engine the config selects.
 */
import { loadConfig } from '../../src/config/load.js';
import { openConfiguredStore } from '../../src/store/open.js';
import type { MessageStore } from '../../src/store/types.js';

export async function openConfigStore(configFile: string): Promise<MessageStore> {
  return openConfiguredStore(await loadConfig(configFile));
}
