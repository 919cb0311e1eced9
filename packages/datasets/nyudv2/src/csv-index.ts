/**
 * The DenseDepth CSV index (`data/nyu2_train.csv`, `data/nyu2_test.csv`; REFERENCE.md §4):
 * no header, one `rgb_path,depth_path` row per frame, paths relative to the dataset root.
 */
// csv-parse ships CommonJS under the `sync` subpath; typings come through its typesVersions.
import { parse } from 'csv-parse/sync';
import { DataError, resolveInside, type ReadContext } from '@gpl/data';

/** One valid row. `row` is the 1-based line number in the CSV file. */
export interface NyuIndexRow {
  readonly rgb: string;
  readonly depth: string;
  readonly row: number;
}

/**
 * Parses an index CSV. Unparsable text (an unclosed quote) throws a `malformed-row` DataError;
 * row-level problems (a wrong number of fields, an empty path, a path that is absolute or climbs
 * out of `root`) are returned in `problems`, each naming the file and row.
 * @param file the CSV's path relative to the root, used in messages.
 */
export function parseNyuIndex(text: string, file: string, root: string, ctx: ReadContext): { rows: NyuIndexRow[]; problems: DataError[] } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text.replace(/\r\n?/g, '\n'), { relax_column_count: true, skip_empty_lines: true, trim: true, info: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (e) {
    const row = (e as { lines?: number }).lines;
    throw new DataError({ pkg: ctx.pkg, code: 'malformed-row', file, row, expected: 'CSV rows rgb_path,depth_path', received: `unparsable text (${(e as Error).message})` });
  }
  const rows: NyuIndexRow[] = [];
  const problems: DataError[] = [];
  for (const { record, info } of records) {
    const row = info.lines;
    if (record.length !== 2 || record[0] === '' || record[1] === '') {
      problems.push(
        new DataError({ pkg: ctx.pkg, code: 'malformed-row', file, row, expected: '2 non-empty fields rgb_path,depth_path', received: `${record.length} field(s) ${JSON.stringify(record)}` }),
      );
      continue;
    }
    try {
      // Windows-style separators in an index are still paths: normalise before the root check.
      resolveInside(root, record[0].replace(/\\/g, '/'), ctx, file, row);
      resolveInside(root, record[1].replace(/\\/g, '/'), ctx, file, row);
      rows.push({ rgb: record[0].replace(/\\/g, '/'), depth: record[1].replace(/\\/g, '/'), row });
    } catch (e) {
      problems.push(e as DataError);
    }
  }
  return { rows, problems };
}
