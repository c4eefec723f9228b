/**
 * A program that marks every new message of a mailbox heard, in the store that a vmpilot config names: what a
 * mailbox owner's listening does to the store, run by the multi-host test inside a host's network namespace
 * (`ip netns exec B node --import tsx test/helpers/mark-heard.ts CONFIG MAILBOX`), so that the change is
 * committed by a process on that host and reaches the MWI leader through the store's change feed.
 * Prints how many it marked.
 */
import { openConfigStore } from './config-store.js';

const [configFile, mailbox] = process.argv.slice(2);
const store = await openConfigStore(configFile!);
try {
  const unheard = (await store.listMessages(mailbox!, 'new')).filter((m) => !m.heard);
  for (const m of unheard) await store.markHeard(m.id);
  process.stdout.write(`${unheard.length}\n`);
} finally {
  await store.close();
}
