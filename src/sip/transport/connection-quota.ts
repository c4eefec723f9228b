/**
 * Who may hold stream sockets (TCP, TLS; handshakes in progress included): at most `maxConnections` in all; of
 * those, untrusted sources together get all but `reservedForTrusted`, and each untrusted source address at most
 * `maxPerSource`. A stranger flooding with connections (slow-loris, half-open TLS handshakes) therefore fills
 * its own share and never the room kept for the PBX and for the connections we open ourselves.
 *
 * O(1) per socket; one Map entry per untrusted source address holding a socket.
 *
 * Not here: the sockets, or which are trusted (the caller says).
 */

export interface ConnectionQuotaLimits {
  /** Sockets at most, trusted or not. */
  maxConnections: number;
  /** Sockets at most from one untrusted address. */
  maxPerSource: number;
  /** Of maxConnections, kept for trusted sources and outbound connections. */
  reservedForTrusted: number;
}

/** Why a socket was refused, for the log. */
export type QuotaRefusal = 'total' | 'strangers' | 'source' | 'rate';

export class ConnectionQuota {
  private readonly perSource = new Map<string, number>();
  private sockets = 0;

  constructor(private readonly limits: ConnectionQuotaLimits) {}

  /** Sockets holding a slot. */
  get total(): number {
    return this.sockets;
  }

  /** Untrusted source addresses holding at least one slot. */
  get untrustedSources(): number {
    return this.perSource.size;
  }

  /**
   * Takes a slot for a socket from `address` (undefined: one we open ourselves, counted as trusted). Returns
   * undefined when taken, else why not; every slot taken must be given back with release(address, trusted).
   */
  acquire(address: string | undefined, trusted: boolean): QuotaRefusal | undefined {
    const { maxConnections, maxPerSource, reservedForTrusted } = this.limits;
    if (this.sockets >= maxConnections) return 'total';
    if (!trusted && address !== undefined) {
      if (this.sockets >= maxConnections - reservedForTrusted) return 'strangers';
      const held = this.perSource.get(address) ?? 0;
      if (held >= maxPerSource) return 'source';
      this.perSource.set(address, held + 1);
    }
    this.sockets++;
    return undefined;
  }

  /** Gives back a slot taken by acquire() with the same arguments. */
  release(address: string | undefined, trusted: boolean): void {
    if (this.sockets > 0) this.sockets--;
    if (trusted || address === undefined) return;
    const held = this.perSource.get(address) ?? 0;
    if (held <= 1) this.perSource.delete(address);
    else this.perSource.set(address, held - 1);
  }
}
