/**
 * Email notification of new messages (issue 4): one mail per deposit to the mailbox's address, through the
 * configured SMTP server (nodemailer), with the audio attached when the mailbox asks for it.
 *
 * A failing SMTP server delays mail, never the call: notify() only queues (in memory) and returns. One mail is
 * sent at a time, in deposit order. A temporary failure (a 4xx reply, a refused or dropped connection, a
 * timeout) retries the mail at the head of the queue after a backoff that doubles from retryBaseMs up to
 * maxRetryDelayMs; a permanent one (a 5xx reply, e.g. an unknown recipient) or the last attempt drops that
 * mail with an error log so that it does not hold up the others.
 *
 * Not durable: mails still queued when the process stops are lost (logged at close()). The message itself is
 * safe in the store; only its notification is.
 */
import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { SmtpConfig } from '../config/schema.js';
import type { Mailbox, MessageRecord } from '../store/types.js';
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
}

export interface EmailNotifier {
  /** Queues the notification of a stored message; returns at once. Mailboxes without an address are skipped. */
  notify(mailbox: Mailbox, message: MessageRecord): void;
  /** Mails queued or being sent. */
  readonly pending: number;
  /** Stops retrying, waits for a send in progress, closes the transport. Mails still queued are dropped (logged). */
  close(): Promise<void>;
}

interface Job {
  mailbox: Mailbox;
  message: MessageRecord;
  attempts: number;
}

/** SMTP reply class 5 (RFC 5321 §4.2.1: "Permanent Negative Completion reply"): retrying will not help. */
function permanent(err: unknown): boolean {
  const code = (err as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

export function createEmailNotifier(smtp: SmtpConfig, logger: Logger, opts: EmailNotifierOptions = {}): EmailNotifier {
  const log = logger.child({ component: 'email' });
  const timeZone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const maxAttempts = opts.maxAttempts ?? 8;
  const retryBaseMs = opts.retryBaseMs ?? 30_000;
  const maxRetryDelayMs = opts.maxRetryDelayMs ?? 900_000;
  const maxQueue = opts.maxQueue ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.auth ? { user: smtp.auth.user, pass: smtp.auth.pass } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });

  const queue: Job[] = [];
  let sending: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function send(job: Job): Promise<void> {
    const { mailbox, message } = job;
    const content = emailContent(mailbox, message, timeZone);
    let attachments: { filename: string; content: Buffer; contentType: string }[] = [];
    if (content.attachAudio) {
      try {
        attachments = [{ filename: content.attachmentName, content: await readFile(message.audioPath), contentType: 'audio/wav' }];
      } catch (err) {
        // Deleted and purged before the mail went out: the mail still tells the owner a message came.
        log.warn({ messageId: message.id, err: (err as Error).message }, 'message audio unreadable; mailing without it');
      }
    }
    await transport.sendMail({
      from: smtp.from,
      to: mailbox.email,
      subject: content.subject,
      text: content.text,
      priority: content.urgent ? 'high' : 'normal',
      attachments,
    });
  }

  /** Sends the head of the queue. Resolves with the delay before the next step; never rejects. */
  async function step(): Promise<number> {
    const job = queue[0];
    if (!job) return 0;
    job.attempts++;
    try {
      await send(job);
      opsCounters.emails.sent++;
      log.info({ mailbox: job.mailbox.number, messageId: job.message.id, attempts: job.attempts }, 'notification mailed');
    } catch (err) {
      if (!permanent(err) && job.attempts < maxAttempts) {
        const delay = Math.min(maxRetryDelayMs, retryBaseMs * 2 ** (job.attempts - 1));
        opsCounters.emails.retried++;
        log.warn({ mailbox: job.mailbox.number, messageId: job.message.id, attempts: job.attempts, retryInMs: delay, err: (err as Error).message }, 'notification mail failed; will retry');
        return delay;
      }
      opsCounters.emails.dropped++;
      log.error({ mailbox: job.mailbox.number, messageId: job.message.id, attempts: job.attempts, err }, 'notification mail dropped');
    }
    // Sent or given up: off the queue (close() may have emptied it meanwhile).
    if (queue[0] === job) queue.shift();
    return 0;
  }

  /** Runs step() after `delayMs` unless a step is already due or running. */
  function schedule(delayMs: number): void {
    if (closed || timer !== undefined || sending !== undefined || queue.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      sending = step().then((next) => {
        sending = undefined;
        schedule(next);
      });
    }, delayMs);
  }

  return {
    notify(mailbox, message) {
      if (closed) return;
      if (!mailbox.email) return;
      if (queue.length >= maxQueue) {
        // Never the job being sent (index 0 while sending): the next oldest.
        const dropped = queue.splice(sending ? 1 : 0, 1)[0];
        opsCounters.emails.dropped++;
        log.error({ mailbox: dropped?.mailbox.number, messageId: dropped?.message.id }, 'notification queue full; oldest mail dropped');
      }
      queue.push({ mailbox, message, attempts: 0 });
      schedule(0);
    },
    get pending() {
      return queue.length;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await sending;
      if (queue.length > 0) log.warn({ mails: queue.length }, 'email notifier closed with mails unsent');
      queue.length = 0;
      transport.close();
    },
  };
}
