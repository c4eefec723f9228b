/**
 * One call's SRTP crypto contexts (RFC 3711), keyed from the SDES exchange (RFC 4568): the peer's key
 * decrypts what it sends (inbound), ours encrypts what we send (outbound). Contexts are kept across a
 * re-INVITE that repeats the same keys, because they carry the rollover counter and replay window of the
 * streams in flight (RFC 3711 §3.3.1); new keys start new contexts.
 */
import { SRTCP_MAX_TRAILER, SRTP_MAX_TRAILER, SrtpContext } from './srtp/context.js';
import type { SdesCrypto } from './srtp/sdes.js';
import type { SrtpSuite } from './srtp/context.js';

/** The negotiated SRTP of a call (NegotiatedAudio.srtp). */
export interface NegotiatedSrtp {
  suite: SrtpSuite;
  remote: SdesCrypto;
  local: SdesCrypto;
}

export class SrtpKeys {
  /** Room every outgoing RTP or RTCP buffer needs after its packet for the SRTP/SRTCP trailer. */
  static readonly MAX_TRAILER = Math.max(SRTP_MAX_TRAILER, SRTCP_MAX_TRAILER);

  inbound: SrtpContext | undefined = undefined;
  outbound: SrtpContext | undefined = undefined;
  private remoteKey: SdesCrypto | undefined = undefined;
  private localKey: SdesCrypto | undefined = undefined;

  /** After each offer/answer; undefined turns SRTP off. */
  configure(srtp: NegotiatedSrtp | undefined): void {
    if (srtp === undefined) {
      this.inbound = this.outbound = this.remoteKey = this.localKey = undefined;
      return;
    }
    if (!sameKey(this.remoteKey, srtp.remote)) {
      this.remoteKey = srtp.remote;
      this.inbound = contextFor(srtp.remote);
    }
    if (!sameKey(this.localKey, srtp.local)) {
      this.localKey = srtp.local;
      this.outbound = contextFor(srtp.local);
    }
  }
}

function contextFor(key: SdesCrypto): SrtpContext {
  return new SrtpContext(key.suite, key.masterKey, key.masterSalt, key.mki ? { mki: key.mki } : {});
}

function sameKey(a: SdesCrypto | undefined, b: SdesCrypto): boolean {
  return a !== undefined && a.suite === b.suite && a.masterKey.equals(b.masterKey) && a.masterSalt.equals(b.masterSalt);
}
