/**
 * Connections to PostgreSQL for the store: a `pg` Pool whose 64-bit integers read as JavaScript numbers (every
 * bigint column holds ms since the epoch or a count, far below 2^53), transactions, and telling a lost or
 * refused connection (worth keeping work for later) from an error in what was asked (worth reporting).
 */
import pg from 'pg';

const INT8_OID = 20;

/** Type parsers for this store's clients: int8 as number; everything else as pg does. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PgConnectOptions {
  /** Connections kept by the pool. Default 10. */
  poolSize?: number;
  /** How long a new connection may take, ms. Default 5000. */
  connectTimeoutMs?: number;
}

/** The client settings of a store connection (pool clients and dedicated ones alike). */
export function clientConfig(url: string, opts: PgConnectOptions = {}): pg.ClientConfig {
  return {
    connectionString: url,
    types,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    // A host that vanished (not a refused port) is noticed by TCP keepalive, not after the kernel's 2 hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'vmpilot',
  };
}

export function createPool(url: string, opts: PgConnectOptions = {}): pg.Pool {
  return new pg.Pool({ ...clientConfig(url, opts), max: opts.poolSize ?? 10, idleTimeoutMillis: 30_000 });
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** SQLSTATE classes of a connection gone or refused: 08 connection exception, 57P0x operator intervention. */
const CONNECTION_STATES = /^(08|57P0[1-3]|53300)/;
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether an error says the database could not be reached or the connection was lost (as opposed to an error
 * in the statement): the work can be kept and retried when the database is back.
 */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_STATES.test(code) || CONNECTION_CODES.has(code))) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|not queryable/i.test(err.message);
}

/** Something a query can run on: the pool or one client. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient | pg.Client;

/**
 * Runs `fn` in a transaction on one pool client: COMMIT when it resolves, ROLLBACK when it throws. A client whose
 * connection failed is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // pg-pool takes its 'error' listener off a client it lends out: a connection lost between two statements (the
  // server killed while this code awaits something else) would be an unhandled 'error' event, ending the process.
  const onError = (err: Error): void => void (broken ??= err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (isConnectionError(err)) broken ??= err as Error;
    else await client.query('ROLLBACK').catch((rollbackErr: unknown) => (broken ??= rollbackErr as Error));
    throw err;
  } finally {
    // A broken client is destroyed by release() and may still report errors: it keeps the listener.
    if (broken === undefined) client.off('error', onError);
    client.release(broken);
  }
}
