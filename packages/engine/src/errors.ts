/**
 * The error surface every task shares. An expected failure (a bad flag or config value, a data
 * or checkpoint problem, a non-finite loss) carries a `[package]` prefix and reaches the user as
 * its message alone; anything else is a bug and keeps its stack.
 */

/** Process exit codes of the task CLIs. */
export const EXIT_CODES = Object.freeze({ ok: 0, failure: 1, nonFiniteLoss: 3 });

/** Thrown when the loss stops being finite; the last good checkpoint is kept. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly task: string,
    readonly step: number,
    readonly value: number,
    readonly checkpoint: string | undefined,
  ) {
    super(
      `[${task}] loss is ${value} at step ${step}: training stopped. The last good checkpoint is ${checkpoint ?? '(none yet)'}. ` +
        'Lower --lr or --percep-lambda, or check --percep-init (N(0,1) and U[-1,1] diverge, paper Table 4).',
    );
    this.name = 'NonFiniteLossError';
  }
}

/** A user error raised by the engine or a task: the message is complete and actionable. */
export class UsageError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// Every deliberate error in the workspace starts with its origin in brackets: `[@gpl/data] …`,
// `[seg] …`. Raw Node and JavaScript errors ("Cannot read properties of undefined") do not.
const TAGGED = /^\[(@gpl\/[a-z0-9-]+|[a-z][a-z0-9-]*)\]/;

/** Whether an error is an expected, explained failure (printed without its stack). */
export function isExpectedError(err: unknown): err is Error {
  return err instanceof Error && (err instanceof NonFiniteLossError || err instanceof UsageError || TAGGED.test(err.message));
}

/** The exit code for an error that ends a CLI. */
export function exitCodeOf(err: unknown): number {
  return err instanceof NonFiniteLossError ? EXIT_CODES.nonFiniteLoss : EXIT_CODES.failure;
}

/** What a CLI prints for an error: the message of an expected one (its stack with `verbose`), the stack otherwise. */
export function formatError(err: unknown, verbose = false): string {
  if (!(err instanceof Error)) return String(err);
  if (isExpectedError(err) && !verbose) return err.message;
  return err.stack ?? err.message;
}
