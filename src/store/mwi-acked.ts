/**
 * The table mwi_acked (schema.sql.ts migration 9, pg/schema.ts migration 5): per PBX and mailbox, the MWI state
 * the PBX last acknowledged with a 2xx to an unsolicited NOTIFY, or NULL while a NOTIFY is out and not
 * acknowledged (mwi/ack-ledger.ts says why the mark comes before the send). Statements shared by both engines.
 */
import type { MessageCounts, MwiAckRow } from './types.js';

export const LIST_MWI_ACKED_SQL = 'SELECT pbx, mailbox, counts FROM mwi_acked';
/** Args: pbx, mailbox, counts (text or null), now. */
export const PUT_MWI_ACKED_SQL =
  'INSERT INTO mwi_acked (pbx, mailbox, counts, at) VALUES (?, ?, ?, ?) ON CONFLICT (pbx, mailbox) DO UPDATE SET counts = excluded.counts, at = excluded.at';

export interface MwiAckedDbRow {
  pbx: string;
  mailbox: string;
  counts: string | null;
}

/** "new/saved/urgentNew/urgentSaved": what the NOTIFY body says, in one comparable column. */
export function formatAckedCounts(c: MessageCounts): string {
  return `${c.new}/${c.saved}/${c.urgentNew}/${c.urgentSaved}`;
}

function parseAckedCounts(text: string | null): MessageCounts | null {
  const parts = text?.split('/').map(Number);
  if (!parts || parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0)) return null;
  const [n, saved, urgentNew, urgentSaved] = parts as [number, number, number, number];
  return { new: n, saved, urgentNew, urgentSaved };
}

export const toMwiAck = (r: MwiAckedDbRow): MwiAckRow => ({ pbx: r.pbx, mailbox: r.mailbox, counts: parseAckedCounts(r.counts) });
export const mwiAckValues = (a: MwiAckRow, now: number): (string | number | null)[] => [a.pbx, a.mailbox, a.counts && formatAckedCounts(a.counts), now];
