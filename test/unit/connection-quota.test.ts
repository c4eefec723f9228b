/**
 * ConnectionQuota: the total cap, the room kept for trusted peers, the per-stranger cap, and slots given back.
 *
 * Does not cover: sockets (integration/stream-limits.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { ConnectionQuota } from '../../src/sip/transport/connection-quota.js';

describe('ConnectionQuota', () => {
  it('holds one stranger to maxPerSource, and strangers together to maxConnections - reservedForTrusted', () => {
    const quota = new ConnectionQuota({ maxConnections: 10, maxPerSource: 3, reservedForTrusted: 4 });
    expect([1, 2, 3, 4].map(() => quota.acquire('192.0.2.1', false))).toEqual([undefined, undefined, undefined, 'source']);
    expect([1, 2, 3, 4].map(() => quota.acquire('192.0.2.2', false))).toEqual([undefined, undefined, undefined, 'strangers']);
    expect(quota.total).toBe(6);
  });

  it('lets trusted peers and our own connections use the reserved room, up to maxConnections', () => {
    const quota = new ConnectionQuota({ maxConnections: 4, maxPerSource: 4, reservedForTrusted: 2 });
    quota.acquire('192.0.2.1', false);
    quota.acquire('192.0.2.2', false);
    expect(quota.acquire('192.0.2.3', false)).toBe('strangers');
    expect(quota.acquire('10.0.0.1', true)).toBeUndefined();
    expect(quota.acquire(undefined, true)).toBeUndefined();
    expect(quota.acquire('10.0.0.1', true)).toBe('total');
  });

  it('gives slots back, and forgets a stranger that holds none', () => {
    const quota = new ConnectionQuota({ maxConnections: 10, maxPerSource: 1, reservedForTrusted: 0 });
    quota.acquire('192.0.2.1', false);
    expect(quota.acquire('192.0.2.1', false)).toBe('source');
    quota.release('192.0.2.1', false);
    expect(quota.untrustedSources).toBe(0);
    expect(quota.acquire('192.0.2.1', false)).toBeUndefined();
    expect(quota.total).toBe(1);
  });
});
