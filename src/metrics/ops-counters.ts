/**
 * Counts of operational events outside calls (MWI NOTIFYs, notification mails, IMAP appends), kept as plain numbers by the
 * code that sees them and published at scrape (server-metrics.ts). One set per process: the MWI service and
 * the mailer are each one per process, and a cluster's front door labels each process's numbers by worker.
 */
export const opsCounters = {
  /** NOTIFY message-summary outcomes: unsolicited to PBX targets, and in SUBSCRIBE dialogs. */
  mwiNotifies: {
    unsolicited: { delivered: 0, refused: 0, failed: 0 },
    subscription: { delivered: 0, refused: 0, failed: 0 },
  },
  /** Notification mails: sent, failed and to be retried, dropped (gave up or the queue overflowed). */
  emails: { sent: 0, retried: 0, dropped: 0 },
  /** IMAP appends by this process (the leader's drain, unified/append-drain.ts): done, failed and put back, dropped. */
  imapAppends: { appended: 0, retried: 0, dropped: 0 },
};
