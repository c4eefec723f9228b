/** Waiting for a mirror to catch up: two stores compared until identical, bounded in time. */
import { compareStores } from '../../src/store/replica/compare.js';
import type { StoreReplica } from '../../src/store/replica/types.js';

/** Resolves once `standby` compares identical to `primary`; throws with the first differences after `timeoutMs`. */
export async function untilIdentical(primary: StoreReplica, standby: StoreReplica, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const { differences } = await compareStores(primary, standby);
    if (differences.length === 0) return;
    if (Date.now() > end) throw new Error(`the standby did not catch up within ${timeoutMs} ms: ${JSON.stringify(differences.slice(0, 5))}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
