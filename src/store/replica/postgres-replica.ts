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
import { insertAudio, readAudio } from '../pg/audio.js';
import { createPool, inTransaction, redactUrl, type Queryable } from '../pg/connection.js';
import { migratePg } from '../pg/schema.js';
import type { MailboxRow, MessageRow } from '../rows.js';
import type { ChangeKind } from '../change-feed.js';
import type { GreetingKind, StoredSubscription } from '../types.js';
import { MAILBOX_COLUMNS, MESSAGE_COLUMNS, mailboxContent, mailboxValues, messageContent, messageValues, upsertSet } from './content.js';
import type { GreetingContent, MailboxContent, MessageContent, MessageState, StoreReplica } from './types.js';

const placeholders = (n: number): string => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');

/** Opens a replica on the PostgreSQL database at `url`, migrating its schema (an empty database becomes a store). */
export async function openPostgresReplica(url: string, opts: { logger?: Logger } = {}): Promise<PostgresReplica> {
  // As many connections as the mirror updates mailboxes at once (mirror.ts MAILBOXES_AT_ONCE).
  const pool = createPool(url, { poolSize: 8 });
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

  async mailboxes(): Promise<MailboxContent[]> {
    const rows = (await this.pool.query<MailboxRow>('SELECT * FROM mailboxes ORDER BY number')).rows;
    const aliases = new Map<string, string[]>();
    for (const { alias, mailbox } of (await this.pool.query<{ alias: string; mailbox: string }>('SELECT alias, mailbox FROM aliases ORDER BY alias')).rows) {
      aliases.set(mailbox, [...(aliases.get(mailbox) ?? []), alias]);
    }
    return rows.map((r) => mailboxContent(r, aliases.get(r.number) ?? []));
  }

  async mailbox(number: string): Promise<MailboxContent | undefined> {
    // One round trip: the mirror asks this for every mailbox it updates.
    const row = (
      await this.pool.query<MailboxRow & { aliases: string[] }>(
        'SELECT m.*, ARRAY(SELECT alias FROM aliases a WHERE a.mailbox = m.number ORDER BY alias) AS aliases FROM mailboxes m WHERE number = $1',
        [number],
      )
    ).rows[0];
    return row && mailboxContent(row, row.aliases);
  }

  async messages(mailbox?: string): Promise<MessageContent[]> {
    const columns = MESSAGE_COLUMNS.join(', ');
    const rows =
      mailbox === undefined
        ? await this.pool.query<MessageRow>(`SELECT ${columns} FROM messages ORDER BY id`)
        : await this.pool.query<MessageRow>(`SELECT ${columns} FROM messages WHERE mailbox = $1 ORDER BY id`, [mailbox]);
    return rows.rows.map(messageContent);
  }

  async messageAudio(message: Pick<MessageContent, 'id' | 'mailbox'>): Promise<Buffer | undefined> {
    const row = (await this.pool.query<{ audio_id: string }>('SELECT audio_id FROM messages WHERE id = $1', [message.id])).rows[0];
    return row && readAudio(this.pool, row.audio_id);
  }

  async greetings(mailbox?: string): Promise<GreetingContent[]> {
    const select = 'SELECT g.mailbox, g.kind, a.sha256, a.bytes FROM greetings g JOIN audio a ON a.id = g.audio_id';
    const rows =
      mailbox === undefined
        ? await this.pool.query<GreetingContent>(`${select} ORDER BY g.mailbox, g.kind`)
        : await this.pool.query<GreetingContent>(`${select} WHERE g.mailbox = $1 ORDER BY g.kind`, [mailbox]);
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
      await this.logChange(db, m.number, 'mailbox');
    });
  }

  async removeMailbox(number: string): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      // Messages first (no cascade from mailboxes); the triggers drop their audio, and the greetings' with them.
      await db.query('DELETE FROM messages WHERE mailbox = $1', [number]);
      await db.query('DELETE FROM mailboxes WHERE number = $1', [number]);
      await this.logChange(db, number, 'counts');
      await this.logChange(db, number, 'mailbox');
    });
  }

  async putMessages(items: readonly { message: MessageContent; audio: Buffer }[]): Promise<void> {
    if (items.length === 0) return;
    const ids = items.map(({ message }) => message.id);
    await inTransaction(this.pool, async (db) => {
      // Replaced whole: the old rows' trigger drops their audio (same ids); audio left without a row goes too.
      const old = await db.query<{ mailbox: string }>('DELETE FROM messages WHERE id = ANY($1) RETURNING mailbox', [ids]);
      await db.query('DELETE FROM audio WHERE id = ANY($1)', [ids]);
      const touched = new Set(old.rows.map((r) => r.mailbox));
      for (const { message, audio } of items) {
        await insertAudio(db, message.id, audio);
        await db.query(`INSERT INTO messages (${MESSAGE_COLUMNS.join(', ')}, audio_id) VALUES (${placeholders(MESSAGE_COLUMNS.length + 1)})`, [
          ...messageValues(message),
          message.id,
        ]);
        touched.add(message.mailbox);
      }
      for (const mailbox of touched) await this.logChange(db, mailbox, 'counts');
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
      for (const mailbox of touched) await this.logChange(db, mailbox, 'counts');
    });
  }

  async removeMessages(messages: readonly Pick<MessageContent, 'id' | 'mailbox'>[]): Promise<void> {
    if (messages.length === 0) return;
    await inTransaction(this.pool, async (db) => {
      const gone = await db.query<{ mailbox: string }>('DELETE FROM messages WHERE id = ANY($1) RETURNING mailbox', [messages.map((m) => m.id)]);
      for (const mailbox of new Set(gone.rows.map((r) => r.mailbox))) await this.logChange(db, mailbox, 'counts');
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
      await this.logChange(db, mailbox, 'mailbox');
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

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async logChange(db: Queryable, mailbox: string, kind: ChangeKind): Promise<void> {
    await db.query('INSERT INTO mailbox_changes (mailbox, kind, origin) VALUES ($1, $2, $3)', [mailbox, kind, this.origin]);
  }
}
