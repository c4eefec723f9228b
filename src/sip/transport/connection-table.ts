/**
 * The open stream connections, and which one a message goes out on (RFC 3261 §18.2.2, RFC 5923 reuse in spirit):
 * a connection is found by its id (a response goes back on the connection its request came in on) or by the
 * transport, address and port at its far end, whichever side opened it (an inbound connection from A:p is used
 * for sends to A:p).
 *
 * Not here: the sockets themselves (tcp.ts), how many may be open (connection-quota.ts).
 */
import { ConnectionState, type StreamConnection } from './tcp.js';
import { plainAddress, type SendTarget, type TransportName } from './types.js';

function remoteKey(transport: TransportName, address: string, port: number): string {
  return `${transport}|${plainAddress(address).toLowerCase()}|${port}`;
}

export class ConnectionTable {
  private readonly byId = new Map<number, StreamConnection>();
  private readonly byRemote = new Map<string, StreamConnection>();
  private readonly keysOf = new Map<number, string[]>();
  private lastId = 0;

  /** A fresh connection id (never reused in this process). */
  nextId(): number {
    return ++this.lastId;
  }

  /** Connections registered (connecting or open). */
  get size(): number {
    return this.byId.size;
  }

  /** Registers a connection under its id and its far end (the newest connection to a far end wins). */
  add(conn: StreamConnection): void {
    this.byId.set(conn.id, conn);
    this.keysOf.set(conn.id, []);
    this.alias(conn, conn.flow.remoteAddress, conn.flow.remotePort);
  }

  /** Also finds `conn` under this far end (an outbound connection once its host name resolved). */
  alias(conn: StreamConnection, address: string, port: number): void {
    const keys = this.keysOf.get(conn.id);
    if (!keys) return;
    const key = remoteKey(conn.transport, address, port);
    if (keys.includes(key)) return;
    keys.push(key);
    this.byRemote.set(key, conn);
  }

  remove(conn: StreamConnection): void {
    if (this.byId.get(conn.id) !== conn) return;
    this.byId.delete(conn.id);
    for (const key of this.keysOf.get(conn.id) ?? []) {
      if (this.byRemote.get(key) === conn) this.byRemote.delete(key);
    }
    this.keysOf.delete(conn.id);
  }

  /**
   * The connection to send on: the one named by connectionId if it is still usable and of that transport,
   * else the newest usable one to the target's address and port.
   */
  find(target: SendTarget): StreamConnection | undefined {
    if (target.connectionId !== undefined) {
      const conn = this.byId.get(target.connectionId);
      if (conn && conn.transport === target.transport && usable(conn)) return conn;
    }
    const conn = this.byRemote.get(remoteKey(target.transport, target.address, target.port));
    return conn && usable(conn) ? conn : undefined;
  }

  /** Every registered connection (a copy: safe to close them while iterating). */
  all(): StreamConnection[] {
    return [...this.byId.values()];
  }
}

function usable(conn: StreamConnection): boolean {
  return conn.state === ConnectionState.Open || conn.state === ConnectionState.Connecting;
}
