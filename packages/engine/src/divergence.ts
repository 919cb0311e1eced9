/**
 * Divergence warnings. A learning rate far too high rarely gives NaN at once: the loss climbs by
 * orders of magnitude first (`--lr 1e6` took a seg run from 4.1 to 6.7e16 in a few steps). The
 * NaN stop catches the end of that; this watch says so while it happens, once per factor of
 * `factor` above the run's first loss, so a long run is not flooded.
 */
export class DivergenceWatch {
  private first: number | undefined;
  private firstStep = 0;
  private threshold = Infinity;

  /** @param factor warn when the loss exceeds `factor`× the first loss seen, then each further `factor`×. */
  constructor(private readonly factor = 100) {
    if (!(factor > 1)) throw new RangeError(`[@gpl/engine] DivergenceWatch: factor must be > 1, received ${factor}.`);
  }

  /** Observes the loss of `step`; returns a warning line when it crosses the next threshold. */
  observe(step: number, loss: number, hint: string): string | undefined {
    if (!Number.isFinite(loss)) return undefined;
    if (this.first === undefined) {
      if (!(loss > 0)) return undefined;
      this.first = loss;
      this.firstStep = step;
      this.threshold = loss * this.factor;
      return undefined;
    }
    if (loss <= this.threshold) return undefined;
    while (loss > this.threshold) this.threshold *= this.factor;
    const ratio = loss / this.first;
    return `warning: step ${step}: loss ${fmt(loss)} is ${fmt(ratio)}× the loss at step ${this.firstStep} (${fmt(this.first)}): training is diverging; ${hint}.`;
  }
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toPrecision(3));
