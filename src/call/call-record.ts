/**
 * A call's record while it is in progress: created when the INVITE is offered, annotated by the apps where
 * they know what happened (a message left, a log-in, a transfer, the menu the caller is in), finished once
 * when the call ends (or at once for a rejected INVITE) into the store's CallRecord (store/types.ts).
 *
 * The outcome is the last one an app noted: an attendant caller whose transfer failed and who then left a
 * message has outcome 'message'. A call that ends with none noted was abandoned where the caller last was
 * (`reached`): the attendant's menu, the voicemail step ('greeting', 'login', 'recording'), else 'ringing'
 * before the answer and the app's name after it.
 *
 * Not here: writing records (call-records/writer.ts), SIP or media (apps call these methods; the server wires
 * offered/answered/ended).
 */
import type { CallOutcome, CallRecord } from '../store/types.js';

export interface CallRecordStart {
  callId: string;
  /** ms since epoch; default now. */
  offeredAt?: number;
  from: string;
  to: string;
  pilot: string;
  app: string;
  worker?: number;
}

export class CallRecordDraft {
  private readonly offeredAt: number;
  private answeredAt: number | undefined;
  private outcome: { kind: Exclude<CallOutcome, 'abandoned'>; detail: string; messageId?: string } | undefined;
  private place: string | undefined;
  private finished: CallRecord | undefined;

  constructor(private readonly start: CallRecordStart) {
    this.offeredAt = start.offeredAt ?? Date.now();
  }

  get callId(): string {
    return this.start.callId;
  }

  answered(at = Date.now()): void {
    this.answeredAt ??= at;
  }

  /** Where the caller is now (a menu, a step): the outcome's detail if they hang up there. */
  reached(place: string): void {
    this.place = place;
  }

  messageLeft(mailbox: string, messageId: string): void {
    this.outcome = { kind: 'message', detail: mailbox, messageId };
  }

  loggedIn(mailbox: string): void {
    this.outcome = { kind: 'login', detail: mailbox };
  }

  transferredTo(target: string): void {
    this.outcome = { kind: 'transfer', detail: target };
  }

  rejected(status: number): void {
    this.outcome = { kind: 'rejected', detail: String(status) };
  }

  /** The record, made once: later calls return the same one (a call ends once). */
  finish(at = Date.now()): CallRecord {
    if (this.finished) return this.finished;
    const { callId, from, to, pilot, app, worker } = this.start;
    const outcome: CallOutcome = this.outcome?.kind ?? 'abandoned';
    const detail = this.outcome?.detail ?? this.place ?? (this.answeredAt === undefined ? 'ringing' : app);
    const record: CallRecord = { callId, offeredAt: this.offeredAt, endedAt: at, from, to, pilot, app, outcome, detail };
    if (this.answeredAt !== undefined) record.answeredAt = this.answeredAt;
    if (this.outcome?.messageId !== undefined) record.messageId = this.outcome.messageId;
    if (worker !== undefined) record.worker = worker;
    this.finished = record;
    return record;
  }
}
