/**
 * StoreReplica (replica/types.ts) for the PostgreSQL store (postgres.ts; schema in pg/schema.ts): rows in its
 * tables, audio in audio + audio_chunks with each recording's sha256, all on a pool of its own. A message's
 * audio has the message's id; a greeting's audio a new id each time it is written (as the store does).
 *
 * Every write is one transaction, audio and rows together, with its change rows (mailbox_changes, whose
 * trigger NOTIFYs every host): servers on this database hear of what the replica wrote. The schema's triggers
 * drop the audio of a message or greeting deleted or replaced.
 *
 * Greeting digests come from the audio rows' sha256 column (no audio read); message audio is read whole and
 * checked against its sha256 by readAudio.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { newMessageId } from '../message-id.js';
import { insertAudio, readAudio, sha256Hex } from '../pg/audio.js';
import { createPool, inTransaction, redactUrl, type Queryable } from '../pg/connection.js';
import { AUDIO_CHUNK_BYTES, DB_NOW_MS, migratePg } from '../pg/schema.js';
import type { MailboxRow, MessageRow } from '../rows.js';
import type { ChangeKind } from '../change-feed.js';
import type { DirectoryOwned, GreetingKind, StoredSubscription } from '../types.js';
import {
  DELETE_QUEUED_APPENDS_OF_SQL,
  DELETE_QUEUED_APPENDS_SQL,
  LIST_QUEUED_APPENDS_SQL,
  ownedValues,
  PUT_OWNED_SQL,
  PUT_QUEUED_APPEND_SQL,
  queuedAppendValues,
  toQueuedAppend,
  type QueuedAppendRow,
} from '../leader-tables.js';
import { DELETE_QUEUED_OF_SQL, DELETE_QUEUED_SQL, LIST_QUEUED_SQL, PUT_QUEUED_SQL, queuedValues, toQueuedMail, type QueuedMailRow } from '../mail-queue-table.js';
import { listOwned } from '../pg/leader-tables.js';
import { numbered } from '../pg/sql.js';
import { MAILBOX_COLUMNS, MESSAGE_COLUMNS, mailboxContent, mailboxValues, messageContent, messageValues, upsertSet } from './content.js';
import { ofMailboxes, type GreetingContent, type MailboxContent, type MessageContent, type MessageState, type QueuedImapAppend, type QueuedMail, type StoreReplica } from './types.js';

/** PostgreSQL types of the messages columns (schema.ts), for unnest() of one array per column. */
const MESSAGE_COLUMN_TYPES: Record<string, string> = {
  id: 'text',
  mailbox: 'text',
  folder: 'text',
  caller: 'text',
  caller_name: 'text',
  received_at: 'bigint',
  duration_ms: 'bigint',
  urgent: 'integer',
  heard: 'integer',
  reason: 'text',
  forwarded_from: 'text',
  audio_id: 'text',
};

/** Audio rows and their chunks (pg/audio.ts's format: AUDIO_CHUNK_BYTES each, sha256 of the whole) in two statements. */
async function insertAudioBatch(db: Queryable, items: readonly { id: string; audio: Buffer }[]): Promise<void> {
  const chunks = items.map(({ audio }) => Math.ceil(audio.length / AUDIO_CHUNK_BYTES));
  await db.query(
    `INSERT INTO audio (id, bytes, chunks, sha256, created_at) SELECT id, bytes, chunks, sha256, ${DB_NOW_MS}
     FROM unnest($1::text[], $2::bigint[], $3::integer[], $4::text[]) AS t(id, bytes, chunks, sha256)`,
    [items.map((i) => i.id), items.map((i) => i.audio.length), chunks, items.map((i) => sha256Hex(i.audio))],
  );
  const ids: string[] = [];
  const seqs: number[] = [];
  const pieces: Buffer[] = [];
  items.forEach(({ id, audio }, n) => {
    for (let seq = 0; seq < chunks[n]!; seq++) {
      ids.push(id);
      seqs.push(seq);
      pieces.push(audio.subarray(seq * AUDIO_CHUNK_BYTES, (seq + 1) * AUDIO_CHUNK_BYTES));
    }
  });
  // One VALUES row per chunk with the bytes as their own parameters: pg sends a Buffer parameter as binary, where
  // a bytea[] array would travel as hex text (twice the bytes, parsed by the server).
  if (pieces.length === 0) return;
  const rows = pieces.map((_, i) => `($${3 * i + 1}, $${3 * i + 2}::integer, $${3 * i + 3}::bytea)`);
  await db.query(`INSERT INTO audio_chunks (audio_id, seq, bytes) VALUES ${rows.join(', ')}`, pieces.flatMap((piece, i) => [ids[i], seqs[i], piece]));
}

const placeholders = (n: number): string => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');

/** Opens a replica on the PostgreSQL database at `url`, migrating its schema (an empty database becomes a store). */
export async function openPostgresReplica(url: string, opts: { logger?: Logger } = {}): Promise<PostgresReplica> {
  // A few: reconcile reads both sides at once; the mirror writes one batch at a time.
  const pool = createPool(url, { poolSize: 4 });
  // An idle client's connection failing is an event; unheard, it would end the process.
  pool.on('error', (err) => opts.logger?.warn({ err: err.message }, 'PostgreSQL connection lost (idle)'));
  try {
    await migratePg(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return new PostgresReplica(pool, redactUrl(url));
}

export class PostgresReplica implements StoreReplica {
  /** Names this replica's rows in the change feed: every server on the database announces them. */
  private readonly origin = `replica-${randomUUID()}`;

  constructor(
    private readonly pool: pg.Pool,
    readonly description: string,
  ) {}

  async mailboxes(numbers?: readonly string[]): Promise<MailboxContent[]> {
    const select = 'SELECT m.*, ARRAY(SELECT alias FROM aliases a WHERE a.mailbox = m.number ORDER BY alias) AS aliases FROM mailboxes m';
    const rows =
      numbers === undefined
        ? await this.pool.query<MailboxRow & { aliases: string[] }>(`${select} ORDER BY number`)
        : await this.pool.query<MailboxRow & { aliases: string[] }>(`${select} WHERE number = ANY($1) ORDER BY number`, [numbers]);
    return rows.rows.map((r) => mailboxContent(r, r.aliases));
  }

  async mailbox(number: string): Promise<MailboxContent | undefined> {
    return (await this.mailboxes([number]))[0];
  }

  async messages(mailboxes?: readonly string[]): Promise<MessageContent[]> {
    const columns = MESSAGE_COLUMNS.join(', ');
    const rows =
      mailboxes === undefined
        ? await this.pool.query<MessageRow>(`SELECT ${columns} FROM messages ORDER BY id`)
        : await this.pool.query<MessageRow>(`SELECT ${columns} FROM messages WHERE mailbox = ANY($1) ORDER BY id`, [mailboxes]);
    return rows.rows.map(messageContent);
  }

  async messageAudio(message: Pick<MessageContent, 'id' | 'mailbox'>): Promise<Buffer | undefined> {
    const row = (await this.pool.query<{ audio_id: string }>('SELECT audio_id FROM messages WHERE id = $1', [message.id])).rows[0];
    return row && readAudio(this.pool, row.audio_id);
  }

  async greetings(mailboxes?: readonly string[]): Promise<GreetingContent[]> {
    const select = 'SELECT g.mailbox, g.kind, a.sha256, a.bytes FROM greetings g JOIN audio a ON a.id = g.audio_id';
    const rows =
      mailboxes === undefined
        ? await this.pool.query<GreetingContent>(`${select} ORDER BY g.mailbox, g.kind`)
        : await this.pool.query<GreetingContent>(`${select} WHERE g.mailbox = ANY($1) ORDER BY g.mailbox, g.kind`, [mailboxes]);
    return rows.rows.map((r) => ({ mailbox: r.mailbox, kind: r.kind, sha256: r.sha256, bytes: Number(r.bytes) }));
  }

  async greetingAudio(mailbox: string, kind: GreetingKind): Promise<Buffer | undefined> {
    const row = (await this.pool.query<{ audio_id: string }>('SELECT audio_id FROM greetings WHERE mailbox = $1 AND kind = $2', [mailbox, kind])).rows[0];
    return row && readAudio(this.pool, row.audio_id);
  }

  async subscriptions(): Promise<StoredSubscription[]> {
    const rows = await this.pool.query<{ id: string; mailbox: string; source: string; expires_at: number; data: string }>(
      'SELECT id, mailbox, source, expires_at, data FROM mwi_subscriptions ORDER BY id',
    );
    return rows.rows.map((r) => ({ id: r.id, mailbox: r.mailbox, source: r.source, expiresAt: Number(r.expires_at), data: r.data }));
  }

  async directoryOwned(): Promise<DirectoryOwned[]> {
    return listOwned(this.pool);
  }

  async putMailbox(m: MailboxContent): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      await db.query(
        `INSERT INTO mailboxes (${MAILBOX_COLUMNS.join(', ')}) VALUES (${placeholders(MAILBOX_COLUMNS.length)})
         ON CONFLICT (number) DO UPDATE SET ${upsertSet(MAILBOX_COLUMNS)}`,
        mailboxValues(m),
      );
      await db.query('DELETE FROM aliases WHERE mailbox = $1', [m.number]);
      for (const alias of m.aliases) {
        // The source moved this alias here: whoever holds it on this side loses it.
        await db.query('DELETE FROM aliases WHERE alias = $1', [alias]);
        await db.query('INSERT INTO aliases (alias, mailbox) VALUES ($1, $2)', [alias, m.number]);
      }
      await this.logChanges(db, [m.number], 'mailbox');
    });
  }

  async removeMailbox(number: string): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      // Messages first (no cascade from mailboxes); the triggers drop their audio, and the greetings' with them.
      await db.query('DELETE FROM messages WHERE mailbox = $1', [number]);
      await db.query('DELETE FROM mailboxes WHERE number = $1', [number]);
      await this.logChanges(db, [number], 'counts');
      await this.logChanges(db, [number], 'mailbox');
    });
  }

  async putMessages(items: readonly { message: MessageContent; audio: Buffer }[]): Promise<void> {
    if (items.length === 0) return;
    const ids = items.map(({ message }) => message.id);
    await inTransaction(this.pool, async (db) => {
      // Replaced whole: the old rows' trigger drops their audio (same ids); audio left without a row goes too.
      const old = await db.query<{ mailbox: string }>('DELETE FROM messages WHERE id = ANY($1) RETURNING mailbox', [ids]);
      await db.query('DELETE FROM audio WHERE id = ANY($1)', [ids]);
      const touched = new Set([...old.rows.map((r) => r.mailbox), ...items.map(({ message }) => message.mailbox)]);
      // Three statements for the whole batch (audio rows, their chunks, the messages), not three per message: on
      // a busy database host the round trips, not the bytes, held the mirror back.
      await insertAudioBatch(db, items.map(({ message, audio }) => ({ id: message.id, audio })));
      const columns = [...MESSAGE_COLUMNS, 'audio_id'];
      const values = items.map(({ message }) => [...messageValues(message), message.id]);
      await db.query(
        `INSERT INTO messages (${columns.join(', ')}) SELECT * FROM unnest(${columns.map((c, i) => `$${i + 1}::${MESSAGE_COLUMN_TYPES[c]}[]`).join(', ')})`,
        columns.map((_, i) => values.map((row) => row[i])),
      );
      await this.logChanges(db, touched, 'counts');
    });
  }

  async updateMessages(states: readonly MessageState[]): Promise<void> {
    if (states.length === 0) return;
    await inTransaction(this.pool, async (db) => {
      const touched = new Set<string>();
      for (const s of states) {
        const r = await db.query<{ mailbox: string }>('UPDATE messages SET folder = $2, heard = $3, urgent = $4 WHERE id = $1 RETURNING mailbox', [
          s.id,
          s.folder,
          s.heard ? 1 : 0,
          s.urgent ? 1 : 0,
        ]);
        for (const row of r.rows) touched.add(row.mailbox);
      }
      await this.logChanges(db, touched, 'counts');
    });
  }

  async removeMessages(messages: readonly Pick<MessageContent, 'id' | 'mailbox'>[]): Promise<void> {
    if (messages.length === 0) return;
    await inTransaction(this.pool, async (db) => {
      const gone = await db.query<{ mailbox: string }>('DELETE FROM messages WHERE id = ANY($1) RETURNING mailbox', [messages.map((m) => m.id)]);
      await this.logChanges(db, new Set(gone.rows.map((r) => r.mailbox)), 'counts');
    });
  }

  async putGreeting(mailbox: string, kind: GreetingKind, audio: Buffer | undefined): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      if (audio === undefined) {
        await db.query('DELETE FROM greetings WHERE mailbox = $1 AND kind = $2', [mailbox, kind]);
      } else {
        const audioId = newMessageId();
        await insertAudio(db, audioId, audio);
        // The trigger drops the audio this replaces.
        await db.query(
          'INSERT INTO greetings (mailbox, kind, audio_id) VALUES ($1, $2, $3) ON CONFLICT (mailbox, kind) DO UPDATE SET audio_id = excluded.audio_id',
          [mailbox, kind, audioId],
        );
      }
      await this.logChanges(db, [mailbox], 'mailbox');
    });
  }

  async replaceSubscriptions(subscriptions: readonly StoredSubscription[]): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      await db.query('DELETE FROM mwi_subscriptions');
      for (const s of subscriptions) {
        await db.query('INSERT INTO mwi_subscriptions (id, mailbox, source, expires_at, data) VALUES ($1, $2, $3, $4, $5)', [s.id, s.mailbox, s.source, s.expiresAt, s.data]);
      }
    });
  }

  async replaceDirectoryOwned(owned: readonly DirectoryOwned[]): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      await db.query('DELETE FROM directory_owned');
      for (const o of owned) await db.query(numbered(PUT_OWNED_SQL), ownedValues(o));
    });
  }

  async mailQueue(mailboxes?: readonly string[]): Promise<QueuedMail[]> {
    return ofMailboxes((await this.pool.query<QueuedMailRow>(LIST_QUEUED_SQL)).rows.map(toQueuedMail), mailboxes);
  }

  async imapAppends(mailboxes?: readonly string[]): Promise<QueuedImapAppend[]> {
    return ofMailboxes((await this.pool.query<QueuedAppendRow>(LIST_QUEUED_APPENDS_SQL)).rows.map(toQueuedAppend), mailboxes);
  }

  async replaceImapAppends(appends: readonly QueuedImapAppend[], mailboxes?: readonly string[]): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      if (mailboxes === undefined) await db.query(DELETE_QUEUED_APPENDS_SQL);
      else for (const m of mailboxes) await db.query(numbered(DELETE_QUEUED_APPENDS_OF_SQL), [m]);
      for (const a of ofMailboxes(appends, mailboxes)) await db.query(numbered(PUT_QUEUED_APPEND_SQL), queuedAppendValues(a));
    });
  }

  async replaceMailQueue(mails: readonly QueuedMail[], mailboxes?: readonly string[]): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      if (mailboxes === undefined) await db.query(DELETE_QUEUED_SQL);
      else for (const m of mailboxes) await db.query(numbered(DELETE_QUEUED_OF_SQL), [m]);
      for (const m of ofMailboxes(mails, mailboxes)) await db.query(numbered(PUT_QUEUED_SQL), queuedValues(m));
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Appends change rows (one statement for any number of mailboxes); their trigger NOTIFYs every host. */
  private async logChanges(db: Queryable, mailboxes: Iterable<string>, kind: ChangeKind): Promise<void> {
    const list = [...mailboxes];
    if (list.length > 0) await db.query('INSERT INTO mailbox_changes (mailbox, kind, origin) SELECT unnest($1::text[]), $2, $3', [list, kind, this.origin]);
  }
}
