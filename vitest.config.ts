import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Most test files wait (timers, SIPp calls of fixed length, child processes), so two run side by side. These run
 * one at a time, after the others (sequence.groupOrder), with nothing else of this run beside them: they assert
 * media or SIP timing to tens of milliseconds, or start clusters / several server processes from source (tsx
 * compiling on both cores), which a second file's load would slow past their limits.
 */
const SERIAL = [
  // RTP / SIP timing to tens of ms
  'test/integration/lost-ack-timing.test.ts',
  'test/integration/recording-timeline.test.ts',
  'test/integration/media-sipp.test.ts',
  'test/integration/media-probe.test.ts',
  'test/integration/supervised-transfer.test.ts',
  'test/integration/rtp-sources.test.ts',
  'test/integration/rtp-config.test.ts', // at most 1 RTP packet before a recording starts (9 when a second file ran)
  'test/integration/rate-limit.test.ts',
  'test/integration/stream-limits.test.ts',
  'test/integration/vm-deposit.test.ts',
  'test/integration/crash-sweep.test.ts',
  // clusters and several vmpilot processes at once
  'test/integration/cluster*.test.ts',
  'test/integration/metrics-cluster.test.ts',
  'test/integration/multi-host.test.ts',
  'test/integration/leader-jobs.test.ts',
  'test/integration/kamailio-dispatcher.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // expect.poll's own default (1 s) is shorter than a browser round trip with a PIN hash takes on a loaded
    // 2-core CI machine (web-admin.test.ts's wrong-PIN poll failed so); no test asserts a latency.
    expect: { poll: { timeout: 5_000 } },
    // Each file in a process of its own. Integration tests bind only free ports (port 0, RTP blocks reserved by
    // test/helpers/rtp-range.ts), so files can run side by side.
    pool: 'forks',
    // One per core: the files that can share the machine mostly wait. (vitest's default is cores - 1.)
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'side-by-side',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SERIAL],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'serial',
          include: SERIAL,
          sequence: { groupOrder: 1 },
          // One process runs these files one after another (module state is still reset between files).
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
