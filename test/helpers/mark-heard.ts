/**
 * A program that marks every new message of a mailbox heard, in the store that a vmpilot config names: what a
 * mailbox owner's listening does to the store, run by the multi-host test inside a host's network namespace
 * (`ip netns exec B node --import tsx test/helpers/mark-heard.ts CONFIG MAILBOX`), so that the change is
 * committed by a process on that host and reaches the MWI leader through the store's change feed.
 * Prints how many it marked.
 */
import { loadConfig } from '../../src/config/load.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const [configFile, mailbox] = process.argv.slice(2);
const config = await loadConfig(configFile);
const store = await openSqliteStore(config.storage.dir, { maxMessages: config.voicemail.maxMessages, maxMinutes: config.voicemail.maxMinutes });
try {
  const unheard = (await store.listMessages(mailbox!, 'new')).filter((m) => !m.heard);
  for (const m of unheard) await store.markHeard(m.id);
  process.stdout.write(`${unheard.length}\n`);
} finally {
  await store.close();
}
