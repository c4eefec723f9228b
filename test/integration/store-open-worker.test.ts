/*
 * What a cluster worker's start does to the shared store (server.ts openStore with provision false): it
 * recovers stopped workers' recordings, and leaves messages/ to the front door's full repair.
 *
 * Covers: another worker's deposit in progress (audio and sidecar placed, row not yet committed) is neither
 * attached nor quarantined by a worker starting. Does not cover: the recovery itself (store-repair-owner
 * tests), the cluster (cluster-crash.test.ts).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { openStore } from '../../src/server.js';
import { messageAudioPath, storeLayout } from '../../src/store/layout.js';
import { placeMessage } from '../../src/store/message-files.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { MessageStore } from '../../src/store/types.js';
import { newMessage } from '../helpers/store-fixture.js';

let opened: MessageStore | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

describe('a cluster worker opening the store', () => {
  it("leaves another worker's deposit in progress alone (its row is about to be committed)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmpilot-worker-open-'));
    const depositing = await openSqliteStore(dir);
    await depositing.createMailbox({ number: '27000', name: 'Alice', pin: '2580' });
    const layout = storeLayout(dir);
    const meta = await placeMessage(layout, '27000', newMessage(depositing.tmpDir));
    try {
      ({ store: opened } = await openStore(parseConfig(`storage: { dir: ${JSON.stringify(dir)} }\n`, dir), pino({ level: 'silent' }), false));
      expect(existsSync(messageAudioPath(layout, '27000', meta.id))).toBe(true);
      expect(await opened.getMessage(meta.id)).toBeUndefined();
    } finally {
      await depositing.close();
    }
  });
});
