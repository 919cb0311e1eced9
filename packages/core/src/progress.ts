/**
 * Progress reporting for long loops: a redrawn bar with rate and ETA on a terminal, and
 * periodic plain lines (for CI logs and files) otherwise.
 */

export interface ProgressOptions {
  /** Total number of steps. */
  readonly total: number;
  /** Label printed before the bar. */
  readonly label?: string;
  /** Where to write. Default process.stderr. */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force bar (true) or line (false) mode; default: bar when the stream is a TTY. */
  readonly tty?: boolean;
  /** Line mode: print at most every this many milliseconds (plus the last step). Default 10 000. */
  readonly lineIntervalMs?: number;
  /** Unit of the rate. Default 'it'. */
  readonly unit?: string;
  /** Clock, for tests. Default Date.now. */
  readonly now?: () => number;
  /** Step the loop starts at (resumed runs), so rate and ETA count only new work. Default 0. */
  readonly start?: number;
}

/** Formats seconds as `1h02m`, `3m07s` or `12.3s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${seconds.toFixed(1)}s`;
}

function formatValue(v: number | string): string {
  if (typeof v === 'string') return v;
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(4);
}

/** A progress bar (TTY) or periodic progress lines (otherwise). */
export class Progress {
  private readonly total: number;
  private readonly label: string;
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  private readonly tty: boolean;
  private readonly lineIntervalMs: number;
  private readonly unit: string;
  private readonly now: () => number;
  private readonly startStep: number;
  private readonly startTime: number;
  private lastPrint = -Infinity;
  private current: number;
  private finished = false;

  constructor(options: ProgressOptions) {
    if (!Number.isInteger(options.total) || options.total < 0) {
      throw new RangeError(`[@gpl/core] Progress: total must be a non-negative integer, received ${options.total}.`);
    }
    this.total = options.total;
    this.label = options.label ?? '';
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? Boolean(this.stream.isTTY);
    this.lineIntervalMs = options.lineIntervalMs ?? 10_000;
    this.unit = options.unit ?? 'it';
    this.now = options.now ?? Date.now;
    this.startStep = options.start ?? 0;
    this.current = this.startStep;
    this.startTime = this.now();
  }

  /** Steps per second since the start (or resume point). */
  rate(): number {
    const seconds = (this.now() - this.startTime) / 1000;
    return seconds > 0 ? (this.current - this.startStep) / seconds : 0;
  }

  /** Estimated seconds to the end, from the rate so far. */
  eta(): number {
    const r = this.rate();
    return r > 0 ? (this.total - this.current) / r : Infinity;
  }

  /** Reports that `step` steps are done, with optional metrics shown beside the bar. */
  update(step: number, metrics: Record<string, number | string> = {}): void {
    this.current = Math.min(step, this.total);
    const last = this.current >= this.total;
    const t = this.now();
    if (!this.tty && !last && t - this.lastPrint < this.lineIntervalMs) return;
    if (this.tty && !last && t - this.lastPrint < 100) return;
    this.lastPrint = t;
    const text = this.render(metrics);
    if (this.tty) {
      const width = this.stream.columns ?? 100;
      this.stream.write(`\r${text.slice(0, width - 1).padEnd(width - 1)}`);
      if (last) this.finish();
    } else {
      this.stream.write(`${text}\n`);
      if (last) this.finished = true;
    }
  }

  /** Ends the bar line (TTY). Safe to call more than once. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.tty) this.stream.write('\n');
  }

  /** The text of one progress report. */
  render(metrics: Record<string, number | string> = {}): string {
    const frac = this.total > 0 ? this.current / this.total : 1;
    const pct = `${(frac * 100).toFixed(0).padStart(3)}%`;
    const rate = this.rate();
    const rateText = rate >= 1 || rate === 0 ? `${rate.toFixed(2)} ${this.unit}/s` : `${(1 / rate).toFixed(2)} s/${this.unit}`;
    const parts = Object.entries(metrics).map(([k, v]) => `${k} ${formatValue(v)}`);
    const elapsed = formatDuration((this.now() - this.startTime) / 1000);
    const tail = `${this.current}/${this.total} [${elapsed}<${formatDuration(this.eta())}, ${rateText}]`;
    const head = this.label ? `${this.label} ` : '';
    if (this.tty) {
      const barWidth = 24;
      const filled = Math.round(frac * barWidth);
      const bar = '█'.repeat(filled) + '░'.repeat(barWidth - filled);
      return `${head}${pct} ${bar} ${tail}${parts.length ? ' ' + parts.join(' ') : ''}`;
    }
    return `${head}${pct} ${tail}${parts.length ? ' ' + parts.join(' ') : ''}`;
  }
}
