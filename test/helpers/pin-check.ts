/**
 * A PIN check for tests that only ask "does this PIN open this mailbox": store.checkPin from a source of its
 * own, with the default back-off, reduced to its verdict.
 */
import { DEFAULT_PIN_BACKOFF, type PinBackoffPolicy } from '../../src/store/pin-backoff.js';
import type { MessageStore } from '../../src/store/types.js';

export async function pinVerdict(
  store: Pick<MessageStore, 'checkPin'>,
  number: string,
  pin: string,
  source = 'test',
  policy: PinBackoffPolicy = DEFAULT_PIN_BACKOFF,
): Promise<'ok' | 'wrong' | 'wait'> {
  return (await store.checkPin({ number, pin, source, policy })).verdict;
}
