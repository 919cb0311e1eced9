/**
 * The printable parameter table every backbone's `format…Summary` returns: one row per
 * top-level layer prefix with parameters, then the model's own totals.
 */

/** One total row: a label, a count and an optional note in brackets. */
export interface ParameterRow {
  readonly label: string;
  readonly count: number;
  readonly note?: string;
}

/**
 * `heading`, then `  <prefix>  <count>` for every prefix of `byPrefix` with parameters, then the
 * `totals`. Labels are padded to `labelWidth`, counts right-aligned in 12 characters with
 * thousands separators: e.g. `  layer3           7,098,368`.
 */
export function formatParameterTable(heading: string, byPrefix: Readonly<Record<string, number>>, totals: readonly ParameterRow[], labelWidth = 14): string {
  const line = (label: string, count: number, note?: string) =>
    `  ${label.padEnd(labelWidth)}${count.toLocaleString('en-US').padStart(12)}${note ? `   (${note})` : ''}`;
  const prefixes = Object.entries(byPrefix)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => line(k, n));
  return [heading, ...prefixes, ...totals.map((r) => line(r.label, r.count, r.note))].join('\n');
}

/** A count in millions and in units of 2^20 (the unit papers' "M" often is): '24.06M; 22.94 × 2^20'. */
export function millionsNote(count: number): string {
  return `${(count / 1e6).toFixed(2)}M; ${(count / 2 ** 20).toFixed(2)} × 2^20`;
}
