/**
 * Asking an operator to confirm a destructive command (`mailbox delete`, `mailbox prune`). On a terminal the
 * question is asked and only "yes" (or "y") goes on; anywhere else (a script, a pipe, cron) there is nobody to
 * ask, so the command needs --yes: a script that forgot it fails instead of deleting, or hanging on stdin.
 */
import { createInterface } from 'node:readline/promises';

/** Whether to go on: --yes given, or a terminal's answer; undefined when there is no terminal to ask. */
export async function confirmed(question: string, yes: boolean | undefined): Promise<boolean | undefined> {
  if (yes) return true;
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
