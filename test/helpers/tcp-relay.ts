/**
 * A TCP relay on 127.0.0.1 in front of a local server (Dovecot in the tests), for tests that need to see or
 * stall what a vmpilot process sends it: it counts the connections (open now, and ever), and `pass` decides per
 * chunk from the client whether it goes on (a chunk not passed is dropped: the server never sees it).
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpRelay {
  port: number;
  /** Client connections open now. */
  readonly open: ReadonlySet<Socket>;
  /** Client connections accepted so far. */
  readonly ever: number;
  /** Closes every connection and the listener. */
  close(): Promise<void>;
}

export async function startTcpRelay(targetPort: number, pass: (chunk: Buffer) => boolean = () => true): Promise<TcpRelay> {
  const open = new Set<Socket>();
  let ever = 0;
  const server = createServer((client) => {
    open.add(client);
    ever++;
    const upstream = connect(targetPort, '127.0.0.1');
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      if (pass(chunk)) upstream.write(chunk);
    });
    const end = (): void => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    open,
    get ever() {
      return ever;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
