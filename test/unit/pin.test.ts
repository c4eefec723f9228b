/*
 * PINs (src/store/pin.ts): the policy a chosen PIN must meet, and the scrypt hash it is kept as.
 *
 * Covers: the initial-PIN rule (format only; easy ones accepted with a warning); PIN policy (4–16 digits; not the mailbox number; not one digit repeated; not an ascending or
 * descending run, including runs across 9→0); hashPin's format (scrypt parameters and salt in the string, a
 * fresh salt per hash, never the PIN); verifyPin accepting the right PIN and refusing wrong ones, near misses,
 * malformed and tampered hashes; hashes with other parameters than today's still verify; the hash time
 * (printed as a figure).
 *
 * Does not cover: that the comparison is constant-time (it calls crypto.timingSafeEqual; timing is not
 * measurable reliably in a unit test); failure counting and locking (store-sqlite.test.ts).
 */
import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkPinPolicy, hashPin, pinFormatProblem, verifyPin, weakInitialPinWarning } from '../../src/store/pin.js';

describe('PIN policy', () => {
  it.each(['2580', '9371', '14920001', '1357924680123456'])('accepts %s', (pin) => {
    expect(checkPinPolicy(pin, '27000')).toBeUndefined();
  });

  it.each([
    ['too short', '123', /4 to 16 digits/],
    ['too long', '12345678901234567', /4 to 16 digits/],
    ['not digits', '12a4', /4 to 16 digits/],
    ['with a keypad symbol', '123#', /4 to 16 digits/],
    ['empty', '', /4 to 16 digits/],
    ['the mailbox number', '27000', /mailbox number/],
    ['one digit repeated', '0000', /one digit repeated/],
    ['one digit repeated, long', '7777777', /one digit repeated/],
    ['an ascending run', '1234', /run/],
    ['a long ascending run', '123456', /run/],
    ['an ascending run through 0', '7890', /run/],
    ['a descending run', '4321', /run/],
    ['a descending run through 9', '2109', /run/],
  ])('refuses %s (%s)', (_what, pin, message) => {
    expect(checkPinPolicy(pin, '27000')).toMatch(message);
  });

  it('compares with the mailbox number it is given', () => {
    expect(checkPinPolicy('4711', '4711')).toMatch(/mailbox number/);
    expect(checkPinPolicy('4711', '4712')).toBeUndefined();
  });
});

describe('initial PINs (set by an administrator, replaced by the owner at first login)', () => {
  it('must be 4 to 16 digits', () => {
    expect(pinFormatProblem('123')).toMatch(/4 to 16 digits/);
    expect(pinFormatProblem('1234')).toBeUndefined();
  });

  it('are accepted with a warning when easy to guess, with none otherwise', () => {
    expect(weakInitialPinWarning('1234', '27000')).toMatch(/^PIN 1234 is easy to guess \(it is a run .*\); accepted as an initial PIN/);
    expect(weakInitialPinWarning('27000', '27000')).toMatch(/it is the mailbox number/);
    expect(weakInitialPinWarning('2580', '27000')).toBeUndefined();
  });
});

describe('hashPin', () => {
  it('writes scrypt$N$r$p$salt$key with a 16-byte salt and a 32-byte key, never the PIN', async () => {
    const hash = await hashPin('2580');
    const parts = hash.split('$');
    expect(parts.slice(0, 4)).toEqual(['scrypt', '16384', '8', '1']);
    expect(Buffer.from(parts[4]!, 'base64')).toHaveLength(16);
    expect(Buffer.from(parts[5]!, 'base64')).toHaveLength(32);
    expect(hash).not.toContain('2580');
  });

  it('uses a fresh salt each time, so one PIN gives different hashes', async () => {
    const [a, b] = await Promise.all([hashPin('2580'), hashPin('2580')]);
    expect(a).not.toBe(b);
    expect(await verifyPin('2580', a)).toBe(true);
    expect(await verifyPin('2580', b)).toBe(true);
  });

  it('takes some ms per hash, off the event loop (figure printed)', async () => {
    const runs = 5;
    const start = performance.now();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    for (let i = 0; i < runs; i++) await hashPin('2580');
    clearInterval(timer);
    const perHash = (performance.now() - start) / runs;
    process.stdout.write(`hashPin (scrypt N=16384 r=8 p=1): ${perHash.toFixed(1)} ms per hash; event loop ticked ${ticks} times meanwhile\n`);
    // The event loop kept running while scrypt worked on the thread pool.
    expect(ticks).toBeGreaterThan(0);
    expect(perHash).toBeLessThan(1000);
  });
});

describe('verifyPin', () => {
  it('accepts the right PIN and refuses wrong ones and near misses', async () => {
    const hash = await hashPin('14920001');
    expect(await verifyPin('14920001', hash)).toBe(true);
    for (const wrong of ['1492000', '149200011', '14920002', '04920001', '', '14920001 ']) {
      expect(await verifyPin(wrong, hash)).toBe(false);
    }
  });

  it('refuses (without throwing) hashes it did not write or that were altered', async () => {
    const hash = await hashPin('2580');
    const parts = hash.split('$');
    const flipped = Buffer.from(parts[5]!, 'base64');
    flipped[0]! ^= 1;
    const tampered = [...parts.slice(0, 5), flipped.toString('base64')].join('$');
    for (const bad of ['', '2580', 'bcrypt$x', tampered, hash.replace('$16384$', '$1000$'), hash.replace('$16384$', '$abc$'), 'scrypt$16384$8$1$$']) {
      expect(await verifyPin('2580', bad)).toBe(false);
    }
  });

  it('verifies a hash written with other scrypt parameters (they are read from the string)', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('2580', salt, 32, { N: 1024, r: 8, p: 1 });
    const hash = `scrypt$1024$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
    expect(await verifyPin('2580', hash)).toBe(true);
    expect(await verifyPin('2581', hash)).toBe(false);
  });
});
