/**
 * Errors for bad input files. Every message names the package, what was being read, the file
 * (plus row or annotation id) and what was expected versus received, so a user can fix the file.
 */
import type { DataErrorCode, SkippedSample } from './types';

/** Where and what went wrong, for `DataError`. */
export interface DataErrorDetails {
  /** Package tag used as the message prefix, e.g. `@gpl/voc`. */
  readonly pkg: string;
  readonly code: DataErrorCode;
  /** The offending file. */
  readonly file: string;
  /** What was expected, e.g. `a 2048×1024 label PNG`. */
  readonly expected: string;
  /** What was found, e.g. `1024×512`. */
  readonly received: string;
  /** 1-based row of an index or CSV file. */
  readonly row?: number;
  /** COCO annotation id. */
  readonly annotationId?: number;
  /** Suggested fix, appended to the message. */
  readonly hint?: string;
}

/**
 * A bad input file: missing, unreadable, truncated, of the wrong size, or holding values
 * outside the expected range. Loaders throw it; under `skipInvalid` they record it instead.
 */
export class DataError extends Error {
  readonly code: DataErrorCode;
  readonly file: string;
  readonly row?: number;
  readonly annotationId?: number;
  readonly expected: string;
  readonly received: string;

  constructor(d: DataErrorDetails) {
    const where =
      d.file +
      (d.row !== undefined ? ` row ${d.row}` : '') +
      (d.annotationId !== undefined ? ` annotation id ${d.annotationId}` : '');
    super(`[${d.pkg}] ${d.code}: ${where}: expected ${d.expected}, received ${d.received}.${d.hint ? ` ${d.hint}` : ''}`);
    this.name = 'DataError';
    this.code = d.code;
    this.file = d.file;
    this.row = d.row;
    this.annotationId = d.annotationId;
    this.expected = d.expected;
    this.received = d.received;
  }

  /** The skip-report entry for this error. */
  toSkipped(): SkippedSample {
    return {
      code: this.code,
      file: this.file,
      ...(this.row !== undefined ? { row: this.row } : {}),
      ...(this.annotationId !== undefined ? { annotationId: this.annotationId } : {}),
      message: this.message,
    };
  }
}

/** True for `DataError` (also across duplicated module copies, by name and code). */
export function isDataError(e: unknown): e is DataError {
  return e instanceof DataError || (e instanceof Error && e.name === 'DataError' && typeof (e as DataError).code === 'string');
}

/**
 * Throws `error`, or records it when skipping invalid samples. Returns normally only when the
 * caller should skip the sample.
 */
export function throwOrSkip(error: DataError, skipInvalid: boolean, skipped: SkippedSample[]): void {
  if (!skipInvalid) throw error;
  skipped.push(error.toSkipped());
}
