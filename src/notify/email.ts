/**
 * Email notification of new messages (issue 4): one mail per deposit to the mailbox's address, through the
 * configured SMTP server (nodemailer), with the audio attached when the mailbox asks for it.
 *
 * A failing SMTP server delays mail, never the call: a deposit queues its mail in the message store in the same
 * transaction as the message (store/deposit-mail.ts: facts, rendered here when sent, so a deposit committed
 * late — kept through a PostgreSQL outage, or finished by repair after a crash — is mailed then, once); notify()
 * renders a mail and queues it (one small write, off the media thread) and returns. The queue is
 * durable (issue 10): a mail queued when the process stops is sent after the restart, and a mail queued by a
 * cluster worker or another host is sent by whichever sender claims it (store.claimMail: a lease, so one sender
 * per mail).
 *
 * Only the process that maintains the store sends (`send`: the single server or the front door; cluster workers
 * only queue). Its sender claims the oldest due mail, sends it, and goes on while mail is due; it looks again
 * every pollMs and at once after its own process queued one: by notify(), or by a deposit's commit (the store's
 * 'mailQueued' event; a worker's or another host's deposit is found at the next poll). A temporary failure (a 4xx reply, a refused or
 * dropped connection, a timeout) puts the mail back with a retry time after a backoff that doubles from
 * retryBaseMs up to maxRetryDelayMs; other due mail goes out meanwhile. A permanent failure (a 5xx reply, e.g. an
 * unknown recipient) or the last attempt deletes the mail from the queue with an error log (the message itself is
 * safe in the store; only its notification is given up; the log line is the administrator's record).
 *
 * At least once, not exactly once, when a sender dies mid-send: its lease runs out and the mail is sent again.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { Config, SmtpConfig } from '../config/schema.js';
import type { MailJob, Mailbox, MessageRecord, MessageStore } from '../store/types.js';
import { depositFacts, DEFAULT_MAIL_QUEUE_MAX } from '../store/deposit-mail.js';
import { emailContent } from './email-content.js';
import { opsCounters } from '../metrics/ops-counters.js';

export interface EmailNotifierOptions {
  /** Time zone in which the mail says when the message came (IANA). Default: the process's. */
  timeZone?: string;
  /** Attempts per mail before it is dropped. Default 8. */
  maxAttempts?: number;
  /** First retry delay, ms; doubles after each failure. Default 30 000. */
  retryBaseMs?: number;
  /** Longest retry delay, ms. Default 900 000 (15 min). */
  maxRetryDelayMs?: number;
  /** Most mails queued; a new one beyond this drops the oldest (logged). Default 1000. */
  maxQueue?: number;
  /** Connection, greeting and socket timeouts, ms. Default 30 000. */
  timeoutMs?: number;
  /** Send from this process (it maintains the store); false: only queue (a cluster worker). Default true. */
  send?: boolean;
  /** How often the sender looks for mail queued elsewhere or due for a retry, ms. Default 1000. */
  pollMs?: number;
}

/**
 * What the notifier needs of the store: the queue, a message's audio when the queued path is gone, and the
 * mailbox a deposit's mail goes to (store/deposit-mail.ts: the deposit queues facts, rendered here).
 */
export type MailQueueStore = Pick<MessageStore, 'enqueueMail' | 'claimMail' | 'finishMail' | 'retryMail' | 'getMessage' | 'findMailbox' | 'events'>;

export interface EmailNotifier {
  /** Queues the notification of a stored message; returns at once. Mailboxes without an address are skipped. */
  notify(mailbox: Mailbox, message: MessageRecord): void;
  /** Stops sending, waits for queue writes and a send in progress, closes the transport. Queued mail stays queued. */
  close(): Promise<void>;
}

/** A queued mail's payload (the store keeps it as JSON): the mail as rendered at the deposit. */
interface MailPayload {
  to: string;
  subject: string;
  text: string;
  urgent: boolean;
  /** The WAV to attach, as the depositing process saw it; absent: no attachment. */
  audioPath?: string;
  attachmentName: string;
}

/** SMTP reply class 5 (RFC 5321 §4.2.1: "Permanent Negative Completion reply"): retrying will not help. */
function permanent(err: unknown): boolean {
  const code = (err as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

export function createEmailNotifier(smtp: SmtpConfig, store: MailQueueStore, logger: Logger, opts: EmailNotifierOptions = {}): EmailNotifier {
  const log = logger.child({ component: 'email' });
  const timeZone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const maxAttempts = opts.maxAttempts ?? 8;
  const retryBaseMs = opts.retryBaseMs ?? 30_000;
  const maxRetryDelayMs = opts.maxRetryDelayMs ?? 900_000;
  const maxQueue = opts.maxQueue ?? DEFAULT_MAIL_QUEUE_MAX;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const pollMs = opts.pollMs ?? 1000;
  // Longer than a send can take (connection, greeting and socket timeouts each bound one wait), so a live
  // sender's lease never runs out under it; a dead sender's mail waits this long before another takes it.
  const leaseMs = Math.max(60_000, 6 * timeoutMs);
  const claimant = `${hostname()}:${process.pid}:${randomUUID()}`;
  const transport =
    opts.send === false
      ? undefined
      : nodemailer.createTransport({
          host: smtp.host,
          port: smtp.port,
          secure: smtp.secure,
          auth: smtp.auth ? { user: smtp.auth.user, pass: smtp.auth.pass } : undefined,
          connectionTimeout: timeoutMs,
          greetingTimeout: timeoutMs,
          socketTimeout: timeoutMs,
        });

  const writes = new Set<Promise<void>>();
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let again = false;
  let closed = false;

  function render(mailbox: Mailbox, message: MessageRecord): MailPayload {
    const content = emailContent(mailbox, message, timeZone);
    return {
      to: mailbox.email!,
      subject: content.subject,
      text: content.text,
      urgent: content.urgent,
      audioPath: content.attachAudio ? message.audioPath : undefined,
      attachmentName: content.attachmentName,
    };
  }

  /** The WAV: at the depositing process's path, else where the store has it now (PostgreSQL: this host's cache). */
  async function audioOf(job: MailJob, path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(path);
    } catch {
      const now = await store.getMessage(job.messageId).catch(() => undefined);
      if (now) return readFile(now.audioPath).catch(() => undefined);
      return undefined;
    }
  }

  async function send(job: MailJob, mail: MailPayload): Promise<void> {
    const attachments: { filename: string; content: Buffer; contentType: string }[] = [];
    if (mail.audioPath !== undefined) {
      const audio = await audioOf(job, mail.audioPath);
      // Deleted and purged before the mail went out: the mail still tells the owner a message came.
      if (audio) attachments.push({ filename: mail.attachmentName, content: audio, contentType: 'audio/wav' });
      else log.warn({ messageId: job.messageId }, 'message audio unreadable; mailing without it');
    }
    await transport!.sendMail({ from: smtp.from, to: mail.to, subject: mail.subject, text: mail.text, priority: mail.urgent ? 'high' : 'normal', attachments });
  }

  /** The payload a notify() rendered (as is), or a deposit's facts rendered now; undefined: the mailbox has no address now. */
  async function mailOf(job: MailJob): Promise<MailPayload | undefined> {
    const payload = JSON.parse(job.payload) as unknown;
    const facts = depositFacts(payload);
    if (!facts) return payload as MailPayload;
    // The message as stored now (its mailbox may have been renumbered since); deleted and purged: the facts.
    const stored = await store.getMessage(job.messageId);
    const mailbox = await store.findMailbox(stored?.mailbox ?? job.mailbox);
    if (!mailbox?.email) return undefined;
    return render(mailbox, stored ?? ({ id: job.messageId, mailbox: mailbox.number, audioPath: '', ...facts } as MessageRecord));
  }

  /** Claims and handles one due mail; false when none was due. Store errors reject (the loop logs them). */
  async function step(): Promise<boolean> {
    const job = await store.claimMail(claimant, Date.now(), leaseMs);
    if (!job) return false;
    const fields = { mailbox: job.mailbox, messageId: job.messageId, attempts: job.attempts };
    let failure: unknown;
    try {
      const mail = await mailOf(job);
      if (!mail) {
        await store.finishMail(job.id);
        log.info(fields, 'notification not mailed: the mailbox has no address (or no longer exists)');
        return true;
      }
      await send(job, mail);
    } catch (err) {
      failure = err ?? new Error('send failed');
    }
    if (failure === undefined) {
      await store.finishMail(job.id);
      opsCounters.emails.sent++;
      log.info(fields, 'notification mailed');
    } else if (!permanent(failure) && job.attempts < maxAttempts) {
      const delay = Math.min(maxRetryDelayMs, retryBaseMs * 2 ** (job.attempts - 1));
      await store.retryMail(job.id, Date.now() + delay, (failure as Error).message ?? String(failure));
      opsCounters.emails.retried++;
      log.warn({ ...fields, retryInMs: delay, err: (failure as Error).message }, 'notification mail failed; will retry');
    } else {
      await store.finishMail(job.id);
      opsCounters.emails.dropped++;
      log.error({ ...fields, err: failure }, 'notification mail dropped');
    }
    return true;
  }

  /** Sends while mail is due, then looks again after pollMs (at once if wake() came meanwhile). */
  function run(): void {
    timer = undefined;
    running = (async () => {
      do {
        again = false;
        try {
          while (!closed && (await step()));
        } catch (err) {
          // The store is restarting or unreachable: the mail stays queued (a lease left behind runs out).
          log.warn({ err }, 'email queue unavailable; will look again');
        }
      } while (again && !closed);
    })();
    void running.then(() => {
      running = undefined;
      if (!closed) timer = setTimeout(run, pollMs);
    });
  }

  /** A mail was queued here: look now rather than at the next poll. */
  function wake(): void {
    if (closed || transport === undefined) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    run();
  }

  // A deposit's commit queued its mail (store/deposit-mail.ts): send it now, not at the next poll.
  const onMailQueued = (): void => wake();
  if (transport) {
    store.events.on('mailQueued', onMailQueued);
    timer = setTimeout(run, 0);
  }

  return {
    notify(mailbox, message) {
      if (closed || !mailbox.email) return;
      const payload = render(mailbox, message);
      const write = store.enqueueMail({ mailbox: mailbox.number, messageId: message.id, payload: JSON.stringify(payload) }, maxQueue).then(
        (dropped) => {
          if (dropped > 0) {
            opsCounters.emails.dropped += dropped;
            log.error({ dropped }, 'notification queue full; oldest mail dropped');
          }
          wake();
        },
        (err: unknown) => log.error({ err, mailbox: mailbox.number, messageId: message.id }, 'notification mail not queued: the store write failed'),
      );
      writes.add(write);
      void write.then(() => writes.delete(write));
    },
    async close() {
      if (closed) return;
      closed = true;
      store.events.off('mailQueued', onMailQueued);
      clearTimeout(timer);
      timer = undefined;
      await Promise.all(writes);
      await running;
      clearTimeout(timer);
      transport?.close();
    },
  };
}

/**
 * The config's notifier (absent without `smtp`). `send`: this process maintains the store (the single server or
 * the front door) and sends; a cluster worker only queues.
 */
export function configuredEmail(config: Pick<Config, 'smtp' | 'voicemail'>, store: MailQueueStore, logger: Logger, send: boolean): EmailNotifier | undefined {
  const smtp = config.smtp;
  if (!smtp) return undefined;
  const { maxAttempts, retryBaseMs, maxRetryDelayMs } = smtp;
  return createEmailNotifier(smtp, store, logger, { timeZone: config.voicemail.timeZone, send, maxAttempts, retryBaseMs, maxRetryDelayMs });
}
