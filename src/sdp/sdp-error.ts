/**
 * The one error SDP parsing throws: the body is not a session description we can read (RFC 4566 §5).
 * `message` names the fault and, where there is one, the line (1-based) that caused it.
 */
export class SdpError extends Error {
  constructor(
    message: string,
    /** 1-based line number of the offending line, when the fault is on one line. */
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'SdpError';
  }
}
