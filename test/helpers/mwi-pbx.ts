/**
 * The MWI side of a PBX for tests of several hosts: a UDP socket that answers every NOTIFY with 200 and keeps
 * one entry per NOTIFY transaction (a retransmission, same Call-ID and CSeq, is answered again but counted
 * once), with the address it came from, so a test can say which host sent which lamp state, and how often.
 */
import { createSocket, type Socket } from 'node:dgram';
import { okFor } from './raw-peer.js';

export interface ReceivedNotify {
  at: number;
  /** The sender's address (which host). */
  from: string;
  mailbox: string;
  /** Messages-Waiting: yes. */
  waiting: boolean;
  /** The Voice-Message line, e.g. "1/0 (0/0)" ('' when absent). */
  voiceMessage: string;
}

export class MwiPbx {
  readonly notifies: ReceivedNotify[] = [];
  private readonly seen = new Set<string>();

  private constructor(private readonly socket: Socket) {
    socket.on('message', (data, rinfo) => {
      const text = data.toString('latin1');
      if (!text.startsWith('NOTIFY ')) return;
      socket.send(Buffer.from(okFor(text), 'latin1'), rinfo.port, rinfo.address);
      const header = (name: string): string => new RegExp(`^${name}: *(.*?)\\r?$`, 'im').exec(text)?.[1] ?? '';
      const key = `${header('Call-ID')} ${header('CSeq')}`;
      if (this.seen.has(key)) return;
      this.seen.add(key);
      const mailbox = /^NOTIFY sips?:([^@;]+)@/.exec(text)?.[1] ?? '';
      this.notifies.push({ at: Date.now(), from: rinfo.address, mailbox, waiting: /^Messages-Waiting: *yes/im.test(text), voiceMessage: header('Voice-Message') });
    });
  }

  static async open(address: string): Promise<MwiPbx> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return new MwiPbx(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Waits for a NOTIFY (at index `from` or later) matching `test`. */
  async waitFor(test: (n: ReceivedNotify) => boolean, what: string, timeoutMs = 10_000, from = 0): Promise<ReceivedNotify> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.notifies.slice(from).find(test);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no NOTIFY ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.notifies.slice(from))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.close();
  }
}
