/**
 * What "a complete recording" means for the capacity bench (media-capacity.ts), whichever way the recording
 * was made (the benchmark app's recordings.jsonl, or the real voicemail's stored messages): the 440 Hz on/off
 * pattern of test/fixtures/audio/long-25s.ulaw all there, and the length from the first tone to the end
 * within 1 % of the 25 s SIPp streamed (issue 9 item 12's measure). Silence before the first tone (the gap
 * between the beep and SIPp's stream) does not count against it.
 */
import { LONG_25S, findTones, readRecording } from '../test/helpers/audio-analysis.js';

const EXPECTED_TONES = Math.ceil(LONG_25S.durationMs / (LONG_25S.onMs + LONG_25S.offMs));

/** One recording's verdict; `lengthErrorMs` = (first tone to the end) - 25 s, NaN when no tone was found. */
export interface RecordingVerdict {
  complete: boolean;
  tones: number;
  lengthErrorMs: number;
}

export async function checkRecording(path: string): Promise<RecordingVerdict> {
  const { samples, durationMs } = await readRecording(path);
  const tones = findTones(samples).filter((t) => Math.abs(t.hz - LONG_25S.hz) < 25 && t.endMs - t.startMs > 500);
  const lengthErrorMs = durationMs - (tones[0]?.startMs ?? NaN) - LONG_25S.durationMs;
  const complete = tones.length === EXPECTED_TONES && Math.abs(lengthErrorMs) <= LONG_25S.durationMs * 0.01;
  return { complete, tones: tones.length, lengthErrorMs };
}

/** The bench's completeness figures over a run's recordings. */
export interface CompletenessFigures {
  total: number;
  complete: number;
  /** The first few problems, one line each. */
  problems: string[];
  /** Sorted, ms: each recording's length error (RecordingVerdict.lengthErrorMs) where a tone was found. */
  lengthErrors: number[];
}

/** Collects verdicts into the figures; `fail` returns a problem line when something beyond the audio is wrong. */
export class CompletenessTally {
  private readonly figures: CompletenessFigures = { total: 0, complete: 0, problems: [], lengthErrors: [] };

  add(label: string, verdict: RecordingVerdict, otherProblem?: string): void {
    this.figures.total++;
    if (Number.isFinite(verdict.lengthErrorMs)) this.figures.lengthErrors.push(verdict.lengthErrorMs);
    if (verdict.complete && otherProblem === undefined) this.figures.complete++;
    else this.problem(`${label}: ${otherProblem ?? ''}${otherProblem ? ', ' : ''}${verdict.tones} tones, ${Math.round(verdict.lengthErrorMs + LONG_25S.durationMs)} ms after the first tone`);
  }

  /** A problem that is not one recording's audio (a message missing, a file left behind). */
  problem(line: string): void {
    if (this.figures.problems.length < 5) this.figures.problems.push(line);
  }

  result(): CompletenessFigures {
    return { ...this.figures, lengthErrors: [...this.figures.lengthErrors].sort((a, b) => a - b) };
  }
}
