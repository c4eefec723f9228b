/**
 * The PostgreSQL schema and its versioned migrations (SQLite has its own: schema.sql.ts). Table and column
 * names and types follow the SQLite schema (integers 0/1 for flags, bigint ms since the epoch for times), so
 * that rows map to records with the same code (rows.ts) and `vmpilot store copy` moves rows as they are.
 * What SQLite keeps in files, PostgreSQL keeps in tables: audio (one row per recording, with its length and
 * SHA-256) and audio_chunks (its bytes, 256 KiB per row), so that one engine's backup covers everything.
 *
 * vmpilot_schema holds the number of migrations applied. migrate() applies the missing ones in order, each in
 * its own transaction with the new version, under a transaction-scoped advisory lock, so hosts starting
 * together apply each migration once; a database newer than this program is refused (SchemaTooNewError).
 * Rules: append, never edit a published migration.
 */
import type pg from 'pg';
import { SchemaTooNewError } from '../schema.sql.js';
import { inTransaction, type Queryable } from './connection.js';

/** The NOTIFY channel a change row is announced on (trigger below; change-listener.ts listens). */
export const CHANGE_CHANNEL = 'vmpilot_changes';

/** Bytes per audio_chunks row. */
export const AUDIO_CHUNK_BYTES = 256 * 1024;

/** Milliseconds since the epoch by the database's clock (every host reads one clock). */
export const DB_NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/** MIGRATIONS[i] takes a database from version i to i + 1. */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: everything SQLite's versions 1-5 hold, plus audio. A mailbox's new number (renumberMailbox) cascades to
  // the rows that name it.
  `
  CREATE TABLE mailboxes (
    number                   text PRIMARY KEY,
    name                     text NOT NULL,
    email                    text,
    email_attach_audio       integer NOT NULL DEFAULT 0,
    pin_hash                 text NOT NULL,
    must_change_pin          integer NOT NULL DEFAULT 1,
    setup_done               integer NOT NULL DEFAULT 0,
    failed_logins            integer NOT NULL DEFAULT 0,
    locked                   integer NOT NULL DEFAULT 0,
    temporary_greeting_until bigint,
    max_messages             integer NOT NULL DEFAULT 0,
    max_minutes              integer NOT NULL DEFAULT 0,
    hidden_from_directory    integer NOT NULL DEFAULT 0,
    created_at               bigint NOT NULL
  );

  CREATE TABLE aliases (
    alias   text PRIMARY KEY,
    mailbox text NOT NULL REFERENCES mailboxes(number) ON DELETE CASCADE ON UPDATE CASCADE
  );
  CREATE INDEX aliases_by_mailbox ON aliases(mailbox);

  -- A recording's bytes (a whole WAV file) are its chunks in seq order; sha256 (hex) of the whole checks them.
  CREATE TABLE audio (
    id         text PRIMARY KEY,
    bytes      bigint NOT NULL,
    chunks     integer NOT NULL,
    sha256     text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE TABLE audio_chunks (
    audio_id text NOT NULL REFERENCES audio(id) ON DELETE CASCADE,
    seq      integer NOT NULL,
    bytes    bytea NOT NULL,
    PRIMARY KEY (audio_id, seq)
  );
  -- Audio does not compress: stored out of line without pglz's wasted effort.
  ALTER TABLE audio_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;

  CREATE TABLE greetings (
    mailbox  text NOT NULL REFERENCES mailboxes(number) ON DELETE CASCADE ON UPDATE CASCADE,
    kind     text NOT NULL CHECK (kind IN ('unavailable', 'busy', 'name', 'temporary')),
    audio_id text NOT NULL REFERENCES audio(id),
    PRIMARY KEY (mailbox, kind)
  );

  CREATE TABLE messages (
    id             text PRIMARY KEY,
    mailbox        text NOT NULL REFERENCES mailboxes(number) ON UPDATE CASCADE,
    folder         text NOT NULL CHECK (folder IN ('new', 'saved', 'deleted')),
    caller         text NOT NULL,
    caller_name    text NOT NULL,
    received_at    bigint NOT NULL,
    duration_ms    bigint NOT NULL,
    urgent         integer NOT NULL,
    heard          integer NOT NULL DEFAULT 0,
    reason         text NOT NULL,
    forwarded_from text,
    audio_id       text NOT NULL REFERENCES audio(id)
  );
  CREATE INDEX messages_by_mailbox ON messages(mailbox, folder, urgent, received_at);

  -- A message's or greeting's audio goes with its row (deleted, cascaded from a mailbox, or replaced).
  CREATE FUNCTION vmpilot_drop_audio() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' OR OLD.audio_id IS DISTINCT FROM NEW.audio_id THEN
      DELETE FROM audio WHERE id = OLD.audio_id;
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER messages_drop_audio AFTER DELETE OR UPDATE OF audio_id ON messages
    FOR EACH ROW EXECUTE FUNCTION vmpilot_drop_audio();
  CREATE TRIGGER greetings_drop_audio AFTER DELETE OR UPDATE OF audio_id ON greetings
    FOR EACH ROW EXECUTE FUNCTION vmpilot_drop_audio();

  -- The change feed: written in the transaction that makes a change; its trigger NOTIFYs every host at commit.
  -- at is the database's clock, so a host catching up after a lost connection reads one time line.
  CREATE TABLE mailbox_changes (
    seq     bigserial PRIMARY KEY,
    mailbox text NOT NULL,
    kind    text NOT NULL CHECK (kind IN ('counts', 'mailbox')),
    origin  text NOT NULL,
    at      bigint NOT NULL DEFAULT ${DB_NOW_MS}
  );
  CREATE INDEX mailbox_changes_by_at ON mailbox_changes(at);
  CREATE FUNCTION vmpilot_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('${CHANGE_CHANNEL}', json_build_object('seq', NEW.seq, 'mailbox', NEW.mailbox, 'kind', NEW.kind, 'origin', NEW.origin, 'at', NEW.at)::text);
    RETURN NULL;
  END $$;
  CREATE TRIGGER mailbox_changes_notify AFTER INSERT ON mailbox_changes
    FOR EACH ROW EXECUTE FUNCTION vmpilot_notify_change();

  CREATE TABLE pin_failures (
    key             text PRIMARY KEY,
    failures        integer NOT NULL,
    last_failure_at bigint NOT NULL,
    not_before      bigint NOT NULL DEFAULT 0,
    alerted_at      bigint NOT NULL DEFAULT 0
  );

  CREATE TABLE counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL
  );

  CREATE TABLE mwi_subscriptions (
    id         text PRIMARY KEY,
    mailbox    text NOT NULL,
    source     text NOT NULL,
    expires_at bigint NOT NULL,
    data       text NOT NULL
  );

  CREATE TABLE call_records (
    seq         bigserial PRIMARY KEY,
    call_id     text NOT NULL,
    offered_at  bigint NOT NULL,
    answered_at bigint,
    ended_at    bigint NOT NULL,
    caller      text NOT NULL,
    callee      text NOT NULL,
    pilot       text NOT NULL,
    app         text NOT NULL,
    outcome     text NOT NULL,
    detail      text NOT NULL,
    message_id  text,
    worker      integer
  );
  CREATE INDEX call_records_by_time ON call_records(offered_at);
  CREATE INDEX call_records_by_caller ON call_records(caller, offered_at);
  CREATE INDEX call_records_by_callee ON call_records(callee, offered_at);
  CREATE INDEX call_records_by_pilot ON call_records(pilot, offered_at);
  `,
  // 2: the new-message email queue (SQLite's version 6; pg/mail-queue.ts).
  `
  CREATE TABLE mail_queue (
    id            bigserial PRIMARY KEY,
    mailbox       text NOT NULL,
    message_id    text NOT NULL,
    payload       text NOT NULL,
    attempts      integer NOT NULL,
    not_before    bigint NOT NULL,
    claimed_by    text,
    claimed_until bigint NOT NULL,
    queued_at     bigint NOT NULL,
    last_error    text
  );
  CREATE INDEX mail_queue_due ON mail_queue(not_before, id);
  `,
  // 3: directory ownership and the IMAP append queue (SQLite's version 7; pg/leader-tables.ts).
  `
  CREATE TABLE directory_owned (
    entry_id text PRIMARY KEY,
    number   text NOT NULL,
    dn       text NOT NULL,
    disabled integer NOT NULL DEFAULT 0
  );
  CREATE TABLE imap_appends (
    message_id    text PRIMARY KEY,
    mailbox       text NOT NULL,
    attempts      integer NOT NULL,
    not_before    bigint NOT NULL,
    claimed_by    text,
    claimed_until bigint NOT NULL,
    queued_at     bigint NOT NULL,
    last_error    text
  );
  CREATE INDEX imap_appends_due ON imap_appends(not_before, queued_at);
  `,
  // 4: where each renumbered mailbox went (SQLite's version 8; mailbox-renumber.ts).
  `
  CREATE TABLE renumbered_mailboxes (
    old text PRIMARY KEY,
    new text NOT NULL,
    at  bigint NOT NULL
  );
  `,
  // 5: the MWI state each PBX acknowledged per mailbox (SQLite's version 9; mwi/ack-ledger.ts).
  `
  CREATE TABLE mwi_acked (
    pbx     text NOT NULL,
    mailbox text NOT NULL,
    counts  text,
    at      bigint NOT NULL,
    PRIMARY KEY (pbx, mailbox)
  );
  `,
];

/** The schema version this program writes. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

/** An arbitrary constant naming the migration lock among advisory locks ('vmpilot' in ASCII, truncated). */
const MIGRATION_LOCK = 0x766d70696c6f74;

/** The version a database is at (0: empty, or not a vmpilot database yet). */
export async function pgSchemaVersion(db: Queryable): Promise<number> {
  const exists = await db.query<{ present: boolean }>("SELECT to_regclass('vmpilot_schema') IS NOT NULL AS present");
  if (!exists.rows[0]?.present) return 0;
  const result = await db.query<{ version: number }>('SELECT version FROM vmpilot_schema');
  return result.rows[0]?.version ?? 0;
}

/** Brings the database up to PG_SCHEMA_VERSION; returns the versions before and after. */
export async function migratePg(pool: pg.Pool): Promise<{ from: number; to: number }> {
  const from = await pgSchemaVersion(pool);
  if (from > PG_SCHEMA_VERSION) throw new SchemaTooNewError(from);
  for (;;) {
    const applied = await inTransaction(pool, async (client): Promise<boolean> => {
      // Hosts starting together wait here; each migration is applied by whoever comes first.
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS vmpilot_schema (version integer NOT NULL)');
      const v = await pgSchemaVersion(client);
      if (v > PG_SCHEMA_VERSION) throw new SchemaTooNewError(v);
      if (v === PG_SCHEMA_VERSION) return false;
      await client.query(PG_MIGRATIONS[v]!);
      await client.query('DELETE FROM vmpilot_schema');
      await client.query('INSERT INTO vmpilot_schema (version) VALUES ($1)', [v + 1]);
      return true;
    });
    if (!applied) return { from, to: await pgSchemaVersion(pool) };
  }
}
