/**
 * The owner's session after a good PIN:
 *
 *   first log-in? ─► tutorial (name, greeting, new PIN)
 *   "You have two new messages, one urgent, and one saved message."
 *   main menu: 1 listen (new, then saved) | 2 change folder (new / saved, then listen) | 0 mailbox options
 *              | * help | # goodbye
 *
 * The counts come from the store each time they are said, never from counters kept here.
 */
import { listenToMessages } from './message-player.js';
import { chooseAction } from './menu.js';
import { helpItems } from './menu-prompts.js';
import { runMailboxOptions } from './mailbox-options.js';
import { summaryItems } from './phrases.js';
import { goodbye } from '../goodbye.js';
import { type Session } from './session.js';
import { needsTutorial, runTutorial } from './tutorial.js';

export async function runSession(s: Session): Promise<void> {
  if (needsTutorial(s.mailbox)) await runTutorial(s);
  let intro = summaryItems(s.say, await s.ctx.store.counts(s.mailbox.number));
  for (;;) {
    const action = await chooseAction(s, 'main', { intro });
    intro = [];
    switch (action) {
      case 'listen':
        await listenToMessages(s);
        break;
      case 'changeFolder': {
        const folder = await chooseAction(s, 'folder');
        const counts = await s.ctx.store.counts(s.mailbox.number);
        const n = folder === 'new' ? counts.new : counts.saved;
        await s.call.play(['you_have', ...s.say.countPhrase(n, folder === 'new' ? 'new_message' : 'saved_message')], { bargeIn: true });
        if (n > 0) await listenToMessages(s, folder);
        break;
      }
      case 'mailboxOptions':
        await runMailboxOptions(s);
        break;
      case 'help':
        await s.call.play(helpItems(s.keys, s.say), { bargeIn: true });
        break;
      case 'exit':
        return goodbye(s.call);
    }
  }
}
