/**
 * What every task's command line shares: the training flags the loop owns (with choices taken
 * from their owners: backends from @gpl/core, loss-network levels from the perceptual option),
 * flags → config (kebab-case flags onto camelCase keys, a `--config` file checked for unknown
 * keys, explicit flags over the file over the defaults), backend start-up with its report, and
 * one error surface: expected failures print one message and exit 1 (3 for a non-finite loss),
 * with the stack only under `--verbose` or `GPL_DEBUG=1`.
 */
import * as fs from 'fs';
import type { Argv } from 'yargs';
import { BACKEND_PREFERENCES, formatBackendReport, initBackend, parseBackendPreference, type BackendPreference, type BackendReport } from '@gpl/core';
import { exitCodeOf, formatError } from './errors';
import { PERCEP_ENGINES, PERCEP_LEVELS, perceptualOption } from './perceptual';
import type { LoopConfig } from './train-loop';

/** `weightDecay` → `weight-decay`. */
export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
/** `weight-decay` → `weightDecay`. */
export const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Flags a user typed (without `--no-` and `=value`), to tell them from yargs' defaults. */
export function explicitFlags(args: readonly string[]): Set<string> {
  return new Set(args.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0].replace(/^no-/, '')));
}

/** The backend preference from `GPL_BACKEND`, checked (named as the variable, not as a flag). */
export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): BackendPreference {
  return parseBackendPreference(env.GPL_BACKEND, 'environment variable GPL_BACKEND');
}

/**
 * The backend preference of a `--backend` value: when the user did not type the flag, its value
 * came from `GPL_BACKEND`, and a bad one is reported as that variable.
 */
export function parseBackend(value: unknown, typedFlag: boolean): BackendPreference {
  if (!typedFlag && process.env.GPL_BACKEND) return backendFromEnv();
  return parseBackendPreference(value === undefined ? undefined : String(value), '--backend');
}

/** A config with the loop's options and a backend choice. */
export type TrainCliConfig = LoopConfig & { readonly backend: BackendPreference };

/** The loop's flags over `defaults` (a task adds its own flags beside these). */
export function trainFlags<T>(y: Argv<T>, d: TrainCliConfig) {
  return y
    .option('config', { type: 'string', describe: 'JSON file of options (flags override it)' })
    .option('batch', { type: 'number', default: d.batch, describe: 'images per step' })
    .option('iters', { type: 'number', default: d.iters, describe: 'optimizer steps' })
    .option('lr', { type: 'number', default: d.lr, describe: 'base learning rate' })
    .option('poly-power', { type: 'number', default: d.polyPower, describe: 'poly decay power' })
    .option('momentum', { type: 'number', default: d.momentum, describe: 'SGD momentum' })
    .option('weight-decay', { type: 'number', default: d.weightDecay, describe: 'L2 weight decay on kernels' })
    .option('seed', { type: 'number', default: d.seed, describe: 'seed of weights, data order, augmentation, dropout' })
    .option('percep', { type: 'string', default: d.percep, describe: 'perceptual loss network: none, a preset (vgg16, vgg19, resnet18, …) or convolutions per block (1,1,1,1,1)' })
    .option('percep-lambda', { type: 'number', default: d.percepLambda, describe: 'λ of Eq. 2' })
    .option('percep-kernel', { type: 'number', default: d.percepKernel, describe: 'loss-network kernel size (1, 3, 5, 7)' })
    .option('percep-init', { type: 'string', default: d.percepInit, describe: 'loss-network init: he, xavier, normal:<σ>, uniform:<a>' })
    .option('percep-levels', { type: 'string', choices: PERCEP_LEVELS as unknown as string[], default: d.percepLevels, describe: 'final layer, all blocks, or 1/16…1 weights' })
    .option('percep-engine', { type: 'string', choices: PERCEP_ENGINES as unknown as string[], default: d.percepEngine ?? 'auto', describe: 'what runs the loss network: onnxruntime-node when it loads (auto), or tfjs / onnxruntime' })
    .option('eval-every', { type: 'number', default: d.evalEvery, describe: 'validate every N steps (0: only at the end)' })
    .option('checkpoint-every', { type: 'number', default: d.checkpointEvery, describe: 'checkpoint every N steps (besides evaluations and the end)' })
    .option('resume', { type: 'boolean', default: d.resume, describe: 'continue the run in --out (default: the newest run) from its last checkpoint' })
    .option('out', { type: 'string', default: d.out, describe: 'run folder' })
    .option('backend', backendOption());
}

/** `--backend`: choices from @gpl/core, default from `GPL_BACKEND`. */
export function backendOption() {
  return { type: 'string' as const, choices: BACKEND_PREFERENCES as unknown as string[], default: process.env.GPL_BACKEND || 'auto', describe: 'TensorFlow.js backend (or GPL_BACKEND)' };
}

/** `--verbose`, for every command. */
export function verboseOption() {
  return { type: 'boolean' as const, default: false, describe: 'print the stack of an error (also GPL_DEBUG=1)' };
}

function readConfigFile(file: string, task: string, keys: readonly string[]): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a folder' : err.message;
    throw new RangeError(`[${task}] --config ${file}: ${why}; expected a JSON object of options.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RangeError(`[${task}] --config ${file}: expected a JSON object of options, received ${JSON.stringify(value)}.`);
  }
  const unknown = Object.keys(value).filter((k) => !keys.includes(k));
  if (unknown.length) throw new RangeError(`[${task}] --config ${file}: unknown option(s) ${unknown.join(', ')}; expected keys of the ${task} config (${keys.join(', ')}).`);
  return value as Record<string, unknown>;
}

/**
 * Defaults, under a `--config` file, under the flags the user typed: one merged object of the
 * config's keys (still to be completed and validated by the task).
 * @param explicit flags the user typed (`explicitFlags(args)`); without `--config`, every flag yargs reports counts.
 */
export function mergeFlags(argv: Record<string, unknown>, explicit: ReadonlySet<string>, defaults: object, task: string): Record<string, unknown> {
  const keys = Object.keys(defaults);
  let merged: Record<string, unknown> = { ...defaults };
  const file = typeof argv.config === 'string' ? argv.config : undefined;
  if (file !== undefined) merged = { ...merged, ...readConfigFile(file, task, keys) };
  for (const key of keys) {
    const flag = kebab(key);
    // A flag wins over --config only when given (yargs fills in defaults for the others).
    if (argv[flag] !== undefined && (file === undefined || explicit.has(flag) || explicit.has(key))) merged[key] = argv[flag];
  }
  return merged;
}

/** Checks the loop's options; throws a RangeError/TypeError naming the option. */
export function validateLoopConfig(c: TrainCliConfig, task: string): void {
  const fail = (field: string, expected: string, value: unknown, Err: typeof RangeError = RangeError): never => {
    throw new Err(`[${task}] option '${field}': expected ${expected}, received ${typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value)}.`);
  };
  const int = (field: keyof LoopConfig, min: number) => {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(field, min > 0 ? 'a positive integer' : 'an integer ≥ 0', v);
  };
  const nonNegative = (field: keyof LoopConfig) => {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(field, 'a finite number ≥ 0', v);
  };
  int('batch', 1);
  int('iters', 1);
  int('evalEvery', 0);
  int('checkpointEvery', 0);
  (['polyPower', 'weightDecay'] as const).forEach(nonNegative);
  if (typeof c.lr !== 'number' || !Number.isFinite(c.lr) || !(c.lr > 0)) fail('lr', 'a finite learning rate > 0', c.lr);
  if (typeof c.momentum !== 'number' || !(c.momentum >= 0 && c.momentum < 1)) fail('momentum', 'a value in [0, 1)', c.momentum);
  if (typeof c.seed !== 'number' || !Number.isInteger(c.seed)) fail('seed', 'an integer', c.seed);
  if (typeof c.resume !== 'boolean') fail('resume', 'true or false', c.resume, TypeError);
  if (typeof c.out !== 'string' || !c.out) fail('out', 'a folder path', c.out, TypeError);
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(c.backend)) fail('backend', `one of ${BACKEND_PREFERENCES.join(', ')}`, c.backend);
  perceptualOption(c, task);
}

/** Starts the backend and logs what runs and why. */
export async function startBackend(prefer: BackendPreference, log: (line: string) => void = (l) => console.log(l)): Promise<BackendReport> {
  const report = await initBackend({ prefer });
  log(`backend: ${formatBackendReport(report)}`);
  return report;
}

/** yargs' `.fail`: usage errors (unknown flag, bad choice) as one message and exit 1; errors from handlers pass on. */
export function failOnUsage(msg: string | undefined, err: Error | undefined): void {
  if (err) throw err;
  console.error(`${msg}\n\nRun with --help for the options.`);
  process.exit(1);
}

/** Runs a CLI's main: an expected failure prints its message (stack under --verbose / GPL_DEBUG=1) and sets the exit code. */
export function runCli(main: () => Promise<void>, args: readonly string[] = process.argv.slice(2)): void {
  const verbose = args.includes('--verbose') || process.env.GPL_DEBUG === '1';
  main().catch((err: unknown) => {
    console.error(formatError(err, verbose));
    process.exit(exitCodeOf(err));
  });
}
