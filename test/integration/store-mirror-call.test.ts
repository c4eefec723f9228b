/*
 * The mirror behind a real server: `vmpilot mirror` follows the change feed of a running server's store (the
 * server's store thread writes it) and copies messages left by real calls (SIPp as the PBX, uac-vm-deposit.xml
 * dialling the mailbox directly) to a SQLite standby; their audio is the same bytes.
 *
 * Does not cover: the mirror's outages, verify and restore (store-mirror.test.ts); PostgreSQL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLine, logRecords, startCli, stopServing, type Serving } from '../helpers/cli-process.js';
import { untilIdentical } from '../helpers/replica-wait.js';
import { runSipp } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const root = mkdtempSync(join(tmpdir(), 'vmpilot-mirror-call-'));
const standbyDir = join(root, 'standby');
let ts: TestServer;
let mirror: Serving | undefined;

beforeAll(async () => {
  ts = await startTestServer(`services: { voicemail: ["8000"] }\nvoicemail: { reviewMenu: false }\nmailboxes:\n  - { number: "27000", pin: "135790", name: "Alice Example" }`);
  const config = join(root, 'mirror.yaml');
  writeFileSync(config, `storage: { dir: ${JSON.stringify(ts.dir)} }\nlog: { level: info }\n`);
  mirror = startCli('mirror', '--to', standbyDir, '--config', config);
  await logLine(mirror, 'mirror sweep');
});

afterAll(async () => {
  await stopServing(mirror);
  await ts?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('vmpilot mirror beside a running server', () => {
  it('copies the messages of real calls to the standby, audio byte for byte', async () => {
    const calls = await runSipp({
      scenario: 'uac-vm-deposit.xml',
      transport: 'udp',
      port: ts.port('udp'),
      service: '27000',
      calls: 2,
      timeoutS: 40,
      extra: ['-key', 'vm_from', '"Bob Smith" <sip:27001@127.0.0.1>', '-key', 'vm_header', 'X-Test: mirrored'],
    });
    if (calls.code !== 0) throw new Error(`SIPp failed (exit ${calls.code}):\n${calls.stderr}\n${calls.stdout.slice(-3000)}`);

    const primary = await openSqliteStore(ts.dir);
    const standby = await openSqliteStore(standbyDir);
    try {
      const deposited = await primary.listMessages('27000');
      expect(deposited).toHaveLength(2);
      await untilIdentical(primary.replica(), standby.replica(), 15_000);
      // Copied because the change feed said so, not by a later sweep (60 s away).
      const copied = logRecords(mirror!).filter((r) => r.msg === 'mirror copied a message').map((r) => r.id);
      expect(copied.sort()).toEqual(deposited.map((m) => m.id).sort());
      expect(logRecords(mirror!).filter((r) => r.msg.startsWith('mirror sweep'))).toHaveLength(1);
    } finally {
      await primary.close();
      await standby.close();
    }
  }, 60_000);
});
