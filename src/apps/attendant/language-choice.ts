/**
 * The language-choice menu, said first when an attendant offers more than one language: each language
 * speaks for itself, in order ("For English, press 1. Pour le français, appuyez sur 2."). No key or a wrong
 * one: once more, then the first language.
 */
import type { CallPlayItem } from '../../call/call.js';
import type { AttendantCall } from './context.js';
import { pressKey, said } from './prompts.js';
import type { Voice } from './voice.js';

const TIMEOUT_MS = 5000;

export function languageMenuItems(voices: readonly Voice[]): CallPlayItem[] {
  return voices.flatMap((v, i) => [...said(v, 'forLanguage'), ...pressKey(v, String(i + 1)), { silenceMs: 300 }]);
}

/** The voice the caller picks (voices[0] when none is picked). */
export async function chooseLanguage(call: AttendantCall, voices: readonly Voice[]): Promise<Voice> {
  for (let tries = 0; tries < 2; tries++) {
    await call.play(languageMenuItems(voices), { bargeIn: true });
    const got = await call.collectDigits({ max: 1, timeoutMs: TIMEOUT_MS, terminators: '' });
    const voice = /^[1-9]$/.test(got.digits) ? voices[Number(got.digits) - 1] : undefined;
    if (voice) return voice;
  }
  return voices[0]!;
}
