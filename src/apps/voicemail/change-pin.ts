/**
 * Changing the PIN: the new PIN twice, checked against the policy (store/pin.ts: 4-16 digits, not the
 * mailbox number, not one digit repeated, not a run), then stored hashed (store.setPin, which also clears
 * mustChangePin).
 *
 * Mandatory (first login with the provisioned PIN): there is no way out but a good PIN; after MAX_TRIES
 * failed rounds the call ends, and mustChangePin, still set, brings the owner back here at the next log-in.
 * Optional (mailbox options): '*' or no entry backs out with the PIN unchanged.
 */
import { checkPinPolicy } from '../../store/pin.js';
import { MAX_TRIES, enterDigits } from './menu.js';
import { goodbye } from '../goodbye.js';
import { refresh, type Session } from './session.js';

/** Returns whether the PIN was changed. */
export async function changePin(s: Session, options: { mandatory: boolean }): Promise<boolean> {
  const { call } = s;
  for (let round = 0; round < MAX_TRIES; round++) {
    const pin = await enterDigits(call, ['enter_new_pin'], { timeoutMs: 8000 });
    if (pin === undefined || pin === '') {
      if (!options.mandatory) return false;
      await call.play(['no_input'], { bargeIn: true });
      continue;
    }
    const problem = checkPinPolicy(pin, s.mailbox.number);
    if (problem !== undefined) {
      s.log.info({ problem }, 'new PIN refused by the policy');
      await call.play([pin.length < 4 ? 'pin_too_short' : 'pin_not_allowed'], { bargeIn: true });
      continue;
    }
    const again = await enterDigits(call, ['reenter_new_pin'], { timeoutMs: 8000 });
    if (again !== pin) {
      await call.play(['pins_do_not_match'], { bargeIn: true });
      continue;
    }
    await s.ctx.store.setPin(s.mailbox.number, pin);
    await refresh(s);
    s.log.info('PIN changed');
    await call.play(['pin_changed'], { bargeIn: true });
    return true;
  }
  if (options.mandatory) return goodbye(call);
  return false;
}
