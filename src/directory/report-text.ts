/**
 * A sync report as lines for an operator (`vmpilot directory sync`) and as one summary object for the log (the
 * scheduled sync). Neither the summary nor anything logged carries a PIN.
 */
import { describeChanges } from '../store/mailbox-diff.js';
import type { SyncReport } from './sync.js';

export function reportLines(r: SyncReport): string[] {
  const verb = r.dryRun ? 'would ' : '';
  return [
    ...r.created.map((c) => `${verb}create ${c.number} (${c.name}) ${c.dn}`),
    ...r.renumbered.map((c) => `${verb}renumber ${c.from} → ${c.to} ${c.dn}`),
    ...r.updated.map((c) => `${verb}update ${c.number}: ${describeChanges(c.changes)}`),
    ...r.disabled.map((c) => `${verb}disable ${c.number} (${c.reason}) ${c.dn}`),
    ...r.skipped.map((s) => `skipped ${s.dn}: ${s.reason}`),
    ...r.pinsToHandOut.map((p) => `PIN for new mailbox ${p.number}: ${p.pin} (${p.why}; hand it to the user)`),
    `${r.dryRun ? 'dry run: ' : ''}${summaryText(r)}${r.dryRun ? '; nothing written' : ''}`,
  ];
}

export function summary(r: SyncReport): Record<string, number | boolean> {
  return {
    dryRun: r.dryRun,
    entries: r.entries,
    pages: r.pages,
    created: r.created.length,
    updated: r.updated.length,
    renumbered: r.renumbered.length,
    disabled: r.disabled.length,
    skipped: r.skipped.length,
    unchanged: r.unchanged,
    pinsToHandOut: r.pinsToHandOut.length,
    seconds: Number(r.seconds.toFixed(2)),
  };
}

function summaryText(r: SyncReport): string {
  return (
    `${r.entries} entries in ${r.pages} page(s): created ${r.created.length}, renumbered ${r.renumbered.length}, updated ${r.updated.length}, ` +
    `disabled ${r.disabled.length}, skipped ${r.skipped.length}, ${r.unchanged} unchanged (${r.seconds.toFixed(1)} s)`
  );
}
