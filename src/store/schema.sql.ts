/**
 * The SQLite schema and its migrations. The database's `PRAGMA user_version` is the number of migrations
 * applied; migrate() applies the missing ones in order, each in its own transaction together with the new
 * user_version, so a crash leaves the database at one version or the next, never between. A database
 * newer than this program (user_version above MIGRATIONS.length) is refused rather than misread.
 *
 * Rules for future migrations: append, never edit a published one; keep each one runnable on a database
 * that other processes (`vmpilot messages`, other workers) have open.
 *
 * Audio is not in the database: a message's WAV lives at messages/<mailbox>/<id>.wav and a greeting's at
 * greetings/<mailbox>/<kind>.wav (audio-files.ts), so paths are derived, not stored.
 */
import type { Database } from 'better-sqlite3';

/** MIGRATIONS[i] takes a database from version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  // 1: mailboxes, their aliases and greetings, messages.
  `
  CREATE TABLE mailboxes (
    number                   TEXT PRIMARY KEY,
    name                     TEXT NOT NULL,
    email                    TEXT,
    email_attach_audio       INTEGER NOT NULL DEFAULT 0,
    pin_hash                 TEXT NOT NULL,
    must_change_pin          INTEGER NOT NULL DEFAULT 1,
    setup_done               INTEGER NOT NULL DEFAULT 0,
    failed_logins            INTEGER NOT NULL DEFAULT 0,
    locked                   INTEGER NOT NULL DEFAULT 0,
    temporary_greeting_until INTEGER,
    max_messages             INTEGER NOT NULL DEFAULT 0,
    max_minutes              INTEGER NOT NULL DEFAULT 0,
    hidden_from_directory    INTEGER NOT NULL DEFAULT 0,
    created_at               INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE aliases (
    alias   TEXT PRIMARY KEY,
    mailbox TEXT NOT NULL REFERENCES mailboxes(number) ON DELETE CASCADE
  ) STRICT;
  CREATE INDEX aliases_by_mailbox ON aliases(mailbox);

  CREATE TABLE greetings (
    mailbox TEXT NOT NULL REFERENCES mailboxes(number) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('unavailable', 'busy', 'name', 'temporary')),
    PRIMARY KEY (mailbox, kind)
  ) STRICT;

  CREATE TABLE messages (
    id             TEXT PRIMARY KEY,
    mailbox        TEXT NOT NULL REFERENCES mailboxes(number),
    folder         TEXT NOT NULL CHECK (folder IN ('new', 'saved', 'deleted')),
    caller         TEXT NOT NULL,
    caller_name    TEXT NOT NULL,
    received_at    INTEGER NOT NULL,
    duration_ms    INTEGER NOT NULL,
    urgent         INTEGER NOT NULL,
    heard          INTEGER NOT NULL DEFAULT 0,
    reason         TEXT NOT NULL,
    forwarded_from TEXT
  ) STRICT;
  CREATE INDEX messages_by_mailbox ON messages(mailbox, folder, urgent, received_at);
  `,
  // 2: the cross-process change feed (change-feed.ts): one row per change that other processes must hear of,
  // written in the transaction that makes the change. `origin` names the writing store instance, so that a
  // process does not announce its own changes twice; old rows are trimmed by whoever watches.
  `
  CREATE TABLE mailbox_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('counts', 'mailbox')),
    origin  TEXT NOT NULL,
    at      INTEGER NOT NULL
  ) STRICT;
  `,
  // 3: the PIN back-off replaces the permanent lock (issue 9 item 4, pin-backoff.ts): failures per source and
  // per mailbox, and counters an administrator can read. Locks set by version 1 were automatic lockouts: lifted.
  // mailboxes.failed_logins is no longer read or written (a mailbox's count is its pin_failures row).
  `
  CREATE TABLE pin_failures (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    not_before      INTEGER NOT NULL DEFAULT 0,
    alerted_at      INTEGER NOT NULL DEFAULT 0
  ) STRICT;

  CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) STRICT;

  UPDATE mailboxes SET locked = 0;
  `,
  // 4: MWI subscriptions, one row each (issue 9 item 5: the subscriptions file was rewritten whole on every
  // change). `mailbox` is not a foreign key: a number with no mailbox can be subscribed to (mwi/subscriptions.ts).
  `
  CREATE TABLE mwi_subscriptions (
    id         TEXT PRIMARY KEY,
    mailbox    TEXT NOT NULL,
    source     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    data       TEXT NOT NULL
  ) STRICT;
  `,
  // 5: call records (issue 11; call-record-table.ts), purged after callRecords.retentionDays. Listed newest
  // first, by time alone or by caller, `to` or pilot within a time range.
  `
  CREATE TABLE call_records (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id     TEXT NOT NULL,
    offered_at  INTEGER NOT NULL,
    answered_at INTEGER,
    ended_at    INTEGER NOT NULL,
    caller      TEXT NOT NULL,
    callee      TEXT NOT NULL,
    pilot       TEXT NOT NULL,
    app         TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    message_id  TEXT,
    worker      INTEGER
  ) STRICT;
  CREATE INDEX call_records_by_time ON call_records(offered_at);
  CREATE INDEX call_records_by_caller ON call_records(caller, offered_at);
  CREATE INDEX call_records_by_callee ON call_records(callee, offered_at);
  CREATE INDEX call_records_by_pilot ON call_records(pilot, offered_at);
  `,
  // 6: the new-message email queue (issue 10; mail-queue-table.ts): durable across restarts, claimed under a
  // lease by one sender at a time. claimed_until 0: not leased.
  `
  CREATE TABLE mail_queue (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox       TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    payload       TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    not_before    INTEGER NOT NULL,
    claimed_by    TEXT,
    claimed_until INTEGER NOT NULL,
    queued_at     INTEGER NOT NULL,
    last_error    TEXT
  ) STRICT;
  CREATE INDEX mail_queue_due ON mail_queue(not_before, id);
  `,
  // 7: the jobs only a site's leader runs keep their state here, so that it survives a restart and every host
  // of a site sees it. directory_owned: which mailboxes the directory sync owns (directory/ownership.ts; it was a
  // file per host). imap_appends: voicemail waiting to be appended to its owner's IMAP folder
  // (imap-append-table.ts), claimed under a lease like mail_queue. No foreign keys: an owned entry is written
  // before its mailbox is created, and an append whose message is gone is simply finished.
  `
  CREATE TABLE directory_owned (
    entry_id TEXT PRIMARY KEY,
    number   TEXT NOT NULL,
    dn       TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE TABLE imap_appends (
    message_id    TEXT PRIMARY KEY,
    mailbox       TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    not_before    INTEGER NOT NULL,
    claimed_by    TEXT,
    claimed_until INTEGER NOT NULL,
    queued_at     INTEGER NOT NULL,
    last_error    TEXT
  ) STRICT;
  CREATE INDEX imap_appends_due ON imap_appends(not_before, queued_at);
  `,
  // 8: where each renumbered mailbox went (mailbox-renumber.ts), so that a deposit for the old number made by a
  // call that began before the renumber (or kept through an outage, or found by repair) lands in the mailbox.
  `
  CREATE TABLE renumbered_mailboxes (
    old TEXT PRIMARY KEY,
    new TEXT NOT NULL,
    at  INTEGER NOT NULL
  ) STRICT;
  `,
  // 9: the MWI state each PBX acknowledged per mailbox (mwi/ack-ledger.ts), so that a new MWI leader or a
  // restarted server sends only the lamps that differ. counts NULL: a NOTIFY was sent and not acknowledged.
  `
  CREATE TABLE mwi_acked (
    pbx     TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    counts  TEXT,
    at      INTEGER NOT NULL,
    PRIMARY KEY (pbx, mailbox)
  ) STRICT;
  `,
];

/** The schema version this program writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Thrown when the database was written by a newer vmpilot. */
export class SchemaTooNewError extends Error {
  constructor(readonly found: number) {
    super(`the database is at schema version ${found}; this vmpilot knows up to ${SCHEMA_VERSION} (upgrade vmpilot)`);
    this.name = 'SchemaTooNewError';
  }
}

/** Brings the database up to SCHEMA_VERSION. Safe when several processes open the database at once. */
export function migrate(db: Database): void {
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  if (version() > SCHEMA_VERSION) throw new SchemaTooNewError(version());
  for (;;) {
    // IMMEDIATE takes the write lock before reading the version: two processes starting together do not
    // both apply the same migration.
    const applied = db
      .transaction((): boolean => {
        const v = version();
        if (v > SCHEMA_VERSION) throw new SchemaTooNewError(v);
        if (v === SCHEMA_VERSION) return false;
        db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${v + 1}`);
        return true;
      })
      .immediate();
    if (!applied) return;
  }
}
