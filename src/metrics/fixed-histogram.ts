/**
 * A histogram kept in plain numbers, for code on the media path: observe() is a short loop over fixed bucket
 * bounds and two additions, with no allocation and no prom-client call. What is counted is published when
 * /metrics is scraped (pull-metric.ts histogramValues), in Prometheus' cumulative form.
 */
export class FixedHistogram {
  /** Count per bucket (not cumulative): counts[i] for values <= bounds[i] and > bounds[i-1]; the last is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  /** `bounds`: ascending upper bounds, in the unit observe() is given. */
  constructor(readonly bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new TypeError('histogram bounds must be ascending');
    }
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** Adds another histogram with the same bounds into this one (phases of a clock group, workers). */
  add(other: FixedHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.sum += other.sum;
    this.count += other.count;
  }
}
