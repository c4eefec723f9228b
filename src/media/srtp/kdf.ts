/**
 * AES in Counter Mode as SRTP uses it (RFC 3711 §4.1.1) and the SRTP key derivation built on it (§4.3).
 *
 * `AesCm` holds one AES-128 key schedule (an ECB cipher object made once per key) and produces the
 * keystream block by block into a preallocated counter buffer, so the packet path creates no cipher object.
 * `deriveSessionKeys` turns an SDES master key and salt into the six session keys of one direction.
 *
 * Not here: the packet formats, ROC, replay (context.ts); SDES parsing (sdes.ts); a key derivation rate
 * other than 0 (RFC 4568's KDR session parameter is refused by sdes.ts, so keys are derived once).
 */
import { createCipheriv, type Cipher } from 'node:crypto';

/** AES_CM_128: master key and session encryption key length in bytes (RFC 3711 §8.2). */
export const MASTER_KEY_LENGTH = 16;
/** Master salt and session salt length in bytes: 112 bits (RFC 3711 §8.2). */
export const MASTER_SALT_LENGTH = 14;
/** HMAC-SHA1 session authentication key length in bytes: n_a = 160 bits (RFC 3711 §8.2). */
export const AUTH_KEY_LENGTH = 20;
/** The largest packet the per-context keystream buffer covers; longer payloads are refused, not thrown. */
export const MAX_KEYSTREAM_BYTES = 2048;

/** RFC 3711 §4.3.1/§4.3.2: the <label> of each session key. */
export const KdfLabel = {
  /** 0x00: SRTP encryption key k_e. */
  RtpEncryption: 0x00,
  /** 0x01: SRTP authentication key k_a. */
  RtpAuthentication: 0x01,
  /** 0x02: SRTP salting key k_s. */
  RtpSalt: 0x02,
  /** 0x03: SRTCP encryption key. */
  RtcpEncryption: 0x03,
  /** 0x04: SRTCP authentication key. */
  RtcpAuthentication: 0x04,
  /** 0x05: SRTCP salting key. */
  RtcpSalt: 0x05,
} as const;

/** The three session keys of one of SRTP or SRTCP. */
export interface SessionKeys {
  /** Session encryption key, 16 bytes. */
  readonly encryption: Buffer;
  /** Session authentication key, 20 bytes. */
  readonly authentication: Buffer;
  /** Session salting key, 14 bytes. */
  readonly salt: Buffer;
}

/**
 * AES-128 in counter mode with a reusable key schedule. Each call builds the counter blocks
 * IV, IV+1, IV+2, ... (RFC 3711 §4.1.1: "the keystream ... is the concatenation of the 128-bit output
 * blocks of the AES cipher in the encrypt direction, using keys k_e, in which the block indices are in
 * increasing order") and encrypts them with one ECB update.
 */
export class AesCm {
  private readonly ecb: Cipher;
  private readonly counters = Buffer.alloc(MAX_KEYSTREAM_BYTES);

  constructor(key: Uint8Array) {
    if (key.length !== MASTER_KEY_LENGTH) throw new TypeError(`AES-128 key must be 16 bytes, got ${key.length}`);
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
  }

  /**
   * XORs the keystream for `iv` (16 bytes) into `buf[offset, offset + length)`. Returns false (and changes
   * nothing) when `length` exceeds MAX_KEYSTREAM_BYTES. Never throws.
   */
  xor(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): boolean {
    if (length <= 0) return length === 0;
    const blocks = (length + 15) >>> 4;
    const bytes = blocks << 4;
    if (bytes > MAX_KEYSTREAM_BYTES) return false;
    const counters = this.counters;
    const low = (iv[14]! << 8) | iv[15]!;
    for (let b = 0; b < blocks; b++) {
      const at = b << 4;
      counters.set(iv, at);
      const n = low + b;
      counters[at + 15] = n & 0xff;
      counters[at + 14] = (n >>> 8) & 0xff;
      // The 128-bit addition carries past the low 16 bits only when IV's low bits are not zero; SRTP's IV
      // always ends in 16 zero bits (§4.1.1), so this loop is for completeness and the B.2 vectors.
      if (n > 0xffff) {
        for (let i = at + 13; i >= at; i--) {
          counters[i] = (counters[i]! + 1) & 0xff;
          if (counters[i] !== 0) break;
        }
      }
    }
    const keystream = this.ecb.update(counters.subarray(0, bytes));
    for (let i = 0; i < length; i++) buf[offset + i]! ^= keystream[i]!;
    return true;
  }

  /** Returns `length` bytes of keystream for `iv` (allocates; for key derivation and tests). */
  keystream(iv: Uint8Array, length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let done = 0; done < length; ) {
      const chunk = Math.min(MAX_KEYSTREAM_BYTES, length - done);
      const blockIv = Buffer.from(iv);
      addToCounter(blockIv, done >>> 4);
      this.xor(blockIv, out, done, chunk);
      done += chunk;
    }
    return out;
  }
}

/** Adds `n` to a 128-bit big-endian counter in place. */
function addToCounter(counter: Buffer, n: number): void {
  let carry = n;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = counter[i]! + (carry % 256);
    counter[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >>> 8);
  }
}

/**
 * Derives one session key (RFC 3711 §4.3.1) with key_derivation_rate 0:
 * "Let r = index DIV key_derivation_rate (with DIV as defined above)" — with a rate of 0, r = 0.
 * "Let key_id = <label> || r." "Let x = key_id XOR master_salt, where key_id and master_salt are aligned
 * so that their least significant bits agree (right-alignment)."
 * §4.3.3: "the PRF ... is AES in Counter Mode ... with IV = x*2^16".
 */
export function deriveKey(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, length: number): Buffer {
  if (masterSalt.length !== MASTER_SALT_LENGTH) {
    throw new TypeError(`master salt must be 14 bytes, got ${masterSalt.length}`);
  }
  const iv = Buffer.alloc(16);
  iv.set(masterSalt, 0);
  // key_id is 56 bits: the label in the top byte, r (48 bits, here 0) below it; right-aligned with the
  // 112-bit salt, the label lands on byte 7.
  iv[7]! ^= label;
  return new AesCm(masterKey).keystream(iv, length);
}

/** Derives the SRTP and SRTCP session keys of one direction from its master key and salt (§4.3.1–§4.3.2). */
export function deriveSessionKeys(
  masterKey: Uint8Array,
  masterSalt: Uint8Array,
): { readonly rtp: SessionKeys; readonly rtcp: SessionKeys } {
  const d = (label: number, length: number): Buffer => deriveKey(masterKey, masterSalt, label, length);
  return {
    rtp: {
      encryption: d(KdfLabel.RtpEncryption, MASTER_KEY_LENGTH),
      authentication: d(KdfLabel.RtpAuthentication, AUTH_KEY_LENGTH),
      salt: d(KdfLabel.RtpSalt, MASTER_SALT_LENGTH),
    },
    rtcp: {
      encryption: d(KdfLabel.RtcpEncryption, MASTER_KEY_LENGTH),
      authentication: d(KdfLabel.RtcpAuthentication, AUTH_KEY_LENGTH),
      salt: d(KdfLabel.RtcpSalt, MASTER_SALT_LENGTH),
    },
  };
}
