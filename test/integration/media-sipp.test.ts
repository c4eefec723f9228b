import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../../src/call/call.js';
import type { AppFunction } from '../../src/apps/run.js';
import { runSipp, type SippResult } from '../helpers/sipp.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { compareTones, findTones, readRecording, TONES_3S } from '../helpers/audio-analysis.js';
import { join } from 'node:path';

describe('exp', () => {
  let ts: TestServer;
  let app: AppFunction | undefined;
  beforeAll(async () => {
    ts = await startTestServer('', '', { apps: { voicemail: (call, ctx) => app!(call, ctx) } });
  });
  afterAll(async () => ts.stop());

  it('rec', async () => {
    let out: unknown;
    let c: Call | undefined;
    app = async (call) => {
      c = call;
      out = await call.record({ path: join(ts.dir, 'r.wav'), maxMs: 20000, silenceMs: 0, beep: false });
      await call.hangup();
    };
    const t0 = Date.now();
    const r: SippResult = await runSipp({ scenario: 'uac-media-record-dtmf.xml', transport: 'udp', port: ts.port('udp') });
    console.log(Date.now() - t0, r.code, r.stderr.slice(-500), out, c?.mediaStats());
    const rec = await readRecording(join(ts.dir, 'r.wav'));
    const found = findTones(rec.samples);
    console.log(rec.durationMs, found, compareTones(found, TONES_3S));
  });
});
