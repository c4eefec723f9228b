/**
 * Mailbox options (main menu key 0, or 0 while at a message):
 *
 *   1 unavailable greeting | 2 busy greeting | 3 recorded name | 4 temporary greeting | 5 change PIN | * back
 *
 * Each recording offers listen / accept / re-record (record-greeting.ts); the PIN is entered twice and
 * checked against the policy (change-pin.ts). '*' returns to where the owner came from.
 */
import { changePin } from './change-pin.js';
import { chooseAction } from './menu.js';
import { recordGreeting } from './record-greeting.js';
import type { Session } from './session.js';
import { runTemporaryGreeting } from './temporary-greeting.js';

export async function runMailboxOptions(s: Session): Promise<void> {
  for (;;) {
    const action = await chooseAction(s, 'mailboxOptions');
    switch (action) {
      case 'unavailableGreeting':
        await recordGreeting(s, 'unavailable');
        break;
      case 'busyGreeting':
        await recordGreeting(s, 'busy');
        break;
      case 'name':
        await recordGreeting(s, 'name');
        break;
      case 'temporaryGreeting':
        await runTemporaryGreeting(s);
        break;
      case 'changePin':
        await changePin(s, { mandatory: false });
        break;
      case 'back':
        return;
    }
  }
}
