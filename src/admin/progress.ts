/**
 * Progress of a long CLI task (store copy, mirror restore, verify): a bar redrawn in place on a terminal, plain
 * lines at every tenth otherwise (a log file or a CI job gets ten lines, not ten thousand). Written to stderr,
 * so that stdout keeps only the result.
 */
export interface Progress {
  update(done: number, total: number): void;
  /** Finishes the bar's line. */
  end(): void;
}

const BAR_WIDTH = 30;
/** A terminal is redrawn at most this often, ms. */
const REDRAW_MS = 100;

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  let lastDraw = 0;
  let lastTenth = -1;
  let drawn = false;
  return {
    update(done, total) {
      const fraction = total === 0 ? 1 : Math.min(1, done / total);
      const percent = Math.floor(fraction * 100);
      if (stream.isTTY) {
        const now = Date.now();
        if (now - lastDraw < REDRAW_MS && done < total) return;
        lastDraw = now;
        const filled = Math.round(fraction * BAR_WIDTH);
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(percent).padStart(3)}% ${done}/${total}`);
        drawn = true;
        return;
      }
      const tenth = Math.floor(percent / 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${label}: ${done}/${total} (${percent}%)\n`);
    },
    end() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
