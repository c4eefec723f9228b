/**
 * Cuts a byte stream (TCP, TLS) into whole SIP messages (RFC 3261 §18.3), and spots RFC 5626 keep-alive pings.
 *
 * Pure: no sockets, no timers. Fed chunks as they arrive; calls back once per whole message, once per ping, and
 * at most once with a framing error, after which it ignores everything (a stream that lost framing cannot be
 * resynchronised: the connection must be closed).
 *
 * Cost: every byte is looked at once. A message that arrives in one chunk is handed on as a view of that chunk
 * (no copy). One spread over several chunks is copied, as it arrives, into one buffer of its own; the chunks are
 * not kept. Keeping them cost a slow-loris peer's 1-byte chunks about 330 bytes of heap each (a Buffer object
 * per byte: 21.5 MB for one 64 KiB header section); now what an incomplete message holds is its bytes, in a
 * buffer grown by doubling up to the header limit, then sized exactly once Content-Length is known.
 *
 * Memory per framer: at most maxHeaderBytes while a header section is open, at most maxMessageBytes after.
 *
 * Not here: parsing anything but Content-Length; answering pings (the connection writes the pong).
 */

export interface StreamFramerEvents {
  /** One whole message: start line, headers, empty line and exactly Content-Length bytes of body. */
  onMessage(data: Buffer): void;
  /** A CRLFCRLF keep-alive ping arrived between messages. */
  onPing(): void;
  /** Framing is lost; the stream must be closed. Called once; nothing is emitted afterwards. */
  onError(reason: string): void;
}

/**
 * Where the framer is in the stream.
 */
export enum FramerState {
  /** Between messages: CRs and LFs are skipped (and counted for pings); any other byte starts a message. */
  Idle = 'idle',
  /** Inside a header section, looking for the CRLFCRLF that ends it. */
  Headers = 'headers',
  /** Headers done; waiting for the rest of Content-Length bytes of body. */
  Body = 'body',
  /** Framing was lost, or the framer was closed; input is ignored. */
  Stopped = 'stopped',
}

const CR = 0x0d;
const LF = 0x0a;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** One step of matching "\r\n\r\n": how many of its bytes are matched after byte `b`, given `matched` before. */
function step(matched: number, b: number): number {
  if (b === (matched % 2 === 0 ? CR : LF)) return matched + 1;
  return b === CR ? 1 : 0;
}

/** First size of the buffer an incomplete header section is copied into (it doubles from there). */
const FIRST_HOLD_BYTES = 1024;

export class StreamFramer {
  private state = FramerState.Idle;
  /** Bytes of "\r\n\r\n" matched so far (Idle: a ping; Headers: the end of the header section). */
  private matched = 0;
  /** The current message's bytes from earlier chunks, in held[0, heldBytes). */
  private held: Buffer | undefined;
  private heldBytes = 0;
  /** Where the current message's bytes begin in the chunk being pushed. */
  private segStart = 0;
  private bodyRemaining = 0;
  private framed = 0;
  private readonly maxHeaderBytes: number;

  /**
   * @param maxMessageBytes largest message, header section and body together
   * @param maxHeaderBytes largest header section (start line to the empty line); default maxMessageBytes
   */
  constructor(
    private readonly maxMessageBytes: number,
    private readonly events: StreamFramerEvents,
    maxHeaderBytes = maxMessageBytes,
  ) {
    this.maxHeaderBytes = Math.min(maxHeaderBytes, maxMessageBytes);
  }

  get currentState(): FramerState {
    return this.state;
  }

  /** Bytes held for an incomplete message (at most maxHeaderBytes in a header section, maxMessageBytes after). */
  get bufferedBytes(): number {
    return this.heldBytes;
  }

  /** Memory held for an incomplete message: the size of its buffer (at most twice bufferedBytes, or the limit). */
  get retainedBytes(): number {
    return this.held?.length ?? 0;
  }

  /** Messages and pings framed so far: a change tells that a new message may have begun. */
  get framedCount(): number {
    return this.framed;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    this.segStart = 0;
    while (pos < chunk.length) {
      if (this.state === FramerState.Idle) pos = this.skipIdle(chunk, pos);
      else if (this.state === FramerState.Headers) pos = this.readHeaders(chunk, pos);
      else if (this.state === FramerState.Body) pos = this.readBody(chunk, pos);
      else return;
    }
    if ((this.state === FramerState.Headers || this.state === FramerState.Body) && this.segStart < chunk.length) {
      this.hold(chunk.subarray(this.segStart));
    }
  }

  /** Drops anything held and ignores further input. */
  close(): void {
    this.state = FramerState.Stopped;
    this.held = undefined;
    this.heldBytes = 0;
  }

  /**
   * Copies `bytes` after what is held. The buffer grows by doubling (from FIRST_HOLD_BYTES, capped at the header
   * limit) in a header section, and to the message's exact size in the body, where that size is known.
   */
  private hold(bytes: Buffer): void {
    const need = this.heldBytes + bytes.length;
    const capacity = this.held?.length ?? 0;
    if (need > capacity) {
      const size =
        this.state === FramerState.Body
          ? need + this.bodyRemaining
          : Math.max(need, Math.min(this.maxHeaderBytes, Math.max(FIRST_HOLD_BYTES, capacity * 2)));
      const grown = Buffer.allocUnsafe(size);
      if (this.held) this.held.copy(grown, 0, 0, this.heldBytes);
      this.held = grown;
    }
    bytes.copy(this.held!, this.heldBytes);
    this.heldBytes = need;
  }

  private skipIdle(chunk: Buffer, pos: number): number {
    for (; pos < chunk.length; pos++) {
      const b = chunk[pos];
      if (b !== CR && b !== LF) {
        // RFC 3261 §7.5: "Implementations processing SIP messages over stream-oriented transports MUST ignore
        // any CRLF appearing before the start-line".
        this.matched = 0;
        this.state = FramerState.Headers;
        this.segStart = pos;
        return pos;
      }
      this.matched = step(this.matched, b);
      if (this.matched === 4) {
        // RFC 5626 §3.5.1: "When a server receives a double-CRLF sequence between SIP messages on a
        // connection-oriented transport such as TCP or SCTP, it MUST immediately respond with a single CRLF
        // over the same connection."
        this.matched = 0;
        this.framed++;
        this.events.onPing();
        if (this.state !== FramerState.Idle) return chunk.length; // closed from the callback
      }
    }
    return pos;
  }

  private readHeaders(chunk: Buffer, pos: number): number {
    const end = this.findHeaderEnd(chunk, pos);
    const headBytes = this.heldBytes + ((end < 0 ? chunk.length : end) - this.segStart);
    if (headBytes > this.maxHeaderBytes) {
      return this.fail(`header section exceeds ${this.maxHeaderBytes} bytes`, chunk);
    }
    if (end < 0) return chunk.length;

    let head: Buffer;
    if (this.heldBytes === 0) head = chunk.subarray(this.segStart, end);
    else {
      // The header section began in an earlier chunk: complete the held copy and read it there.
      this.hold(chunk.subarray(this.segStart, end));
      this.segStart = end;
      head = this.held!.subarray(0, this.heldBytes);
    }
    const length = contentLength(head);
    if (typeof length === 'string') return this.fail(length, chunk);
    if (length > this.maxMessageBytes - head.length) {
      return this.fail(`Content-Length ${length} makes the message larger than ${this.maxMessageBytes} bytes`, chunk);
    }
    this.state = FramerState.Body;
    this.bodyRemaining = length;
    return length === 0 ? this.complete(chunk, end) : end;
  }

  /** Index just past the CRLFCRLF that ends the header section, or -1 (with a partial match remembered). */
  private findHeaderEnd(chunk: Buffer, pos: number): number {
    let i = pos;
    // Finish a match begun at the end of an earlier chunk, byte by byte.
    while (this.matched > 0 && i < chunk.length) {
      this.matched = step(this.matched, chunk[i++]);
      if (this.matched === 4) {
        this.matched = 0;
        return i;
      }
    }
    if (i >= chunk.length) return -1;
    const at = chunk.indexOf(CRLFCRLF, i);
    if (at >= 0) return at + 4;
    // A match can only be in progress within the last three bytes.
    let m = 0;
    for (let j = Math.max(i, chunk.length - 3); j < chunk.length; j++) m = step(m, chunk[j]);
    this.matched = m;
    return -1;
  }

  private readBody(chunk: Buffer, pos: number): number {
    const take = Math.min(this.bodyRemaining, chunk.length - pos);
    this.bodyRemaining -= take;
    return this.bodyRemaining === 0 ? this.complete(chunk, pos + take) : pos + take;
  }

  /** The message ends at `end` in `chunk`: hand it on, go back to Idle, return where the next one may start. */
  private complete(chunk: Buffer, end: number): number {
    let message = chunk.subarray(this.segStart, end);
    if (this.heldBytes > 0) {
      this.hold(message);
      message = this.held!.subarray(0, this.heldBytes);
    }
    // The held buffer goes with the message (no copy); the next message starts a buffer of its own.
    this.held = undefined;
    this.heldBytes = 0;
    this.framed++;
    this.state = FramerState.Idle;
    this.matched = 0;
    this.segStart = end;
    this.events.onMessage(message);
    return this.state === FramerState.Idle ? end : chunk.length;
  }

  private fail(reason: string, chunk: Buffer): number {
    this.close();
    this.events.onError(reason);
    return chunk.length;
  }
}

/**
 * The body length a header section declares (RFC 3261 §20.14, compact form "l" §7.3.3), or why it cannot be
 * framed. `head` runs from the start line to the empty line.
 */
export function contentLength(head: Buffer): number | string {
  const text = head.toString('latin1');
  let found: string | undefined;
  let lineStart = text.indexOf('\r\n') + 2; // skip the start line
  while (lineStart > 1 && lineStart < text.length) {
    let lineEnd = text.indexOf('\r\n', lineStart);
    // Folded continuation lines (§7.3.1) belong to the header above them.
    while (lineEnd >= 0 && (text.charCodeAt(lineEnd + 2) === 0x20 || text.charCodeAt(lineEnd + 2) === 0x09)) {
      lineEnd = text.indexOf('\r\n', lineEnd + 2);
    }
    if (lineEnd < 0) lineEnd = text.length;
    const first = text.charCodeAt(lineStart) | 0x20; // lower-cased
    if (first === 0x63 /* c */ || first === 0x6c /* l */) {
      const line = text.slice(lineStart, lineEnd);
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
      if (name === 'content-length' || name === 'l') {
        const value = line.slice(colon + 1).replace(/\r\n[ \t]+/g, ' ').trim();
        if (found !== undefined && found !== value) return `conflicting Content-Length values "${found}" and "${value}"`;
        found = value;
      }
    }
    lineStart = lineEnd + 2;
  }
  // RFC 3261 §18.3: "In the case of stream-oriented transports such as TCP, the Content-Length header field
  // indicates the size of the body. All SIP implementations MUST use Content-Length with TCP."
  if (found === undefined) return 'no Content-Length on a stream transport (RFC 3261 §18.3)';
  if (!/^[0-9]{1,10}$/.test(found)) return `Content-Length "${found.slice(0, 40)}" is not a non-negative integer`;
  return Number(found);
}
