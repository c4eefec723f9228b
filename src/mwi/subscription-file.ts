/**
 * Subscriptions kept across restarts in one JSON file (`<storage.dir>/subscriptions.json`):
 *
 *   { "version": 1, "subscriptions": [ SubscriptionRecord, ... ] }
 *
 * Written atomically (a temporary file, fsynced, then renamed over the old one), so a crash leaves the old
 * file or the new one, never half of one. Saves are coalesced: save() asks for a write of the current
 * snapshot; while one write runs, further requests become one more write after it. No synchronous disk I/O.
 *
 * The folder is not fsynced after the rename: after a power cut the previous file may come back, which costs
 * at most the newest subscriptions (subscribers refresh them, or subscribe again after a 481).
 *
 * One file per process: workers sharing a storage folder must be given different file names.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { SubscriptionRecord } from './subscription.js';

const VERSION = 1;

export class SubscriptionFile {
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(
    readonly path: string,
    /** The records to write, read at write time. */
    private readonly snapshot: () => SubscriptionRecord[],
    private readonly log: Logger,
  ) {}

  /** The records in the file; none when it does not exist. A damaged file is logged and set aside. */
  async load(): Promise<SubscriptionRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      const aside = `${this.path}.damaged-${Date.now()}`;
      this.log.error({ err, file: this.path, movedTo: aside }, 'subscriptions file is not JSON; starting without subscriptions');
      await rename(this.path, aside).catch(() => undefined);
      return [];
    }
    const list = isObject(data) && data.version === VERSION && Array.isArray(data.subscriptions) ? data.subscriptions : undefined;
    if (!list) {
      this.log.error({ file: this.path }, 'subscriptions file has an unknown layout; ignored');
      return [];
    }
    const records = list.filter(isRecord);
    if (records.length < list.length) this.log.warn({ file: this.path, skipped: list.length - records.length }, 'malformed subscription records skipped');
    return records;
  }

  /** Asks for the current snapshot to be written (soon, once). */
  save(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.writeLoop();
  }

  /** Resolves once every requested save is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        try {
          await this.write(this.snapshot());
        } catch (err) {
          this.log.error({ err, file: this.path }, 'subscriptions file could not be written');
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async write(records: SubscriptionRecord[]): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify({ version: VERSION, subscriptions: records }));
      await fh.sync();
    } catch (err) {
      await fh.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    await rename(tmp, this.path);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A record as written by toRecord(); anything else (hand edits, other versions) is skipped. */
function isRecord(v: unknown): v is SubscriptionRecord {
  if (!isObject(v) || !isString(v.mailbox) || !isString(v.account) || !isNumber(v.expiresAt)) return false;
  const e = v.event;
  if (!isObject(e) || !isString(e.type) || (e.id !== undefined && !isString(e.id))) return false;
  const d = v.dialog;
  return (
    isObject(d) &&
    isString(d.callId) &&
    isString(d.localTag) &&
    isString(d.remoteTag) &&
    isString(d.localUri) &&
    isString(d.remoteUri) &&
    isString(d.remoteTarget) &&
    Array.isArray(d.routeSet) &&
    d.routeSet.every(isString) &&
    isNumber(d.localSeq) &&
    (d.remoteSeq === undefined || isNumber(d.remoteSeq)) &&
    isString(d.localContact) &&
    typeof d.secure === 'boolean'
  );
}
