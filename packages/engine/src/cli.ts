/**
 * What every task's command line shares: the training flags the loop owns (with choices taken
 * from their owners: backends from @gpl/core, loss-network levels from the perceptual option),
 * flags → config (kebab-case flags onto camelCase keys, a `--config` file checked for unknown
 * keys, explicit flags over the file over the defaults), backend start-up with its report, and
 * one error surface: expected failures print one message and exit 1 (3 for a non-finite loss),
 * with the stack only under `--verbose` or `GPL_DEBUG=1`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Argv } from 'yargs';
import { BACKEND_PREFERENCES, formatBackendReport, initBackend, parseBackendPreference, type BackendPreference, type BackendReport } from '@gpl/core';
import { isDataError } from '@gpl/data';
import { EXIT_CODES, UsageError, exitCodeOf, formatError } from './errors';
import { PERCEP_ENGINES, PERCEP_LEVELS, PERCEP_REDUCTIONS, perceptualOption, type PerceptualFlags } from './perceptual';
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

/** The `--percep*` flags over `d`: every task's loss-network options, declared once. */
export function perceptualFlags<T>(y: Argv<T>, d: PerceptualFlags) {
  return y
    .option('percep', { type: 'string', requiresArg: true, default: d.percep, describe: 'perceptual loss network: none, a preset (vgg16, vgg19, resnet18, …) or convolutions per block (1,1,1,1,1)' })
    .option('percep-lambda', { type: 'number', requiresArg: true, default: d.percepLambda, describe: 'λ of Eq. 2' })
    .option('percep-kernel', { type: 'number', requiresArg: true, default: d.percepKernel, describe: 'loss-network kernel size (1, 3, 5, 7)' })
    .option('percep-init', { type: 'string', requiresArg: true, default: d.percepInit, describe: 'loss-network init: he, xavier, normal:<σ>, uniform:<a>' })
    .option('percep-levels', { type: 'string', requiresArg: true, choices: PERCEP_LEVELS as unknown as string[], default: d.percepLevels, describe: 'final layer, all blocks, or 1/16…1 weights' })
    .option('percep-reduction', { type: 'string', requiresArg: true, choices: PERCEP_REDUCTIONS as unknown as string[], default: d.percepReduction ?? 'mean', describe: "each level's squared difference: mean over the embedding (Eq. 1) or summed per sample (Eq. 3)" })
    .option('percep-pretrained', { type: 'string', requiresArg: true, default: d.percepPretrained ?? '', describe: "torchvision weights (.pth/.safetensors) for the loss network named by --percep (paper Table 1 'T'); '' = random" })
    .option('percep-engine', { type: 'string', requiresArg: true, choices: PERCEP_ENGINES as unknown as string[], default: d.percepEngine ?? 'auto', describe: 'what runs the loss network: onnxruntime-node when it loads (auto), or tfjs / onnxruntime' });
}

/** The loop's flags over `defaults` (a task adds its own flags beside these). */
export function trainFlags<T>(y: Argv<T>, d: TrainCliConfig) {
  return perceptualFlags(y, d)
    .option('config', { type: 'string', requiresArg: true, describe: 'JSON file of options (flags override it)' })
    .option('batch', { type: 'number', requiresArg: true, default: d.batch, describe: 'images per step' })
    .option('iters', { type: 'number', requiresArg: true, default: d.iters, describe: 'optimizer steps' })
    .option('lr', { type: 'number', requiresArg: true, default: d.lr, describe: 'base learning rate' })
    .option('poly-power', { type: 'number', requiresArg: true, default: d.polyPower, describe: 'poly decay power' })
    .option('momentum', { type: 'number', requiresArg: true, default: d.momentum, describe: 'SGD momentum' })
    .option('weight-decay', { type: 'number', requiresArg: true, default: d.weightDecay, describe: 'L2 weight decay on kernels' })
    .option('seed', { type: 'number', requiresArg: true, default: d.seed, describe: 'seed of weights, data order, augmentation, dropout' })
    .option('eval-every', { type: 'number', requiresArg: true, default: d.evalEvery, describe: 'validate every N steps (0: only at the end)' })
    .option('checkpoint-every', { type: 'number', requiresArg: true, default: d.checkpointEvery, describe: 'checkpoint every N steps (besides evaluations and the end)' })
    .option('resume', { type: 'boolean', default: d.resume, describe: 'continue the run in --out (default: the newest run) from its last checkpoint' })
    .option('out', { type: 'string', requiresArg: true, default: d.out, describe: 'run folder' })
    .option('backend', backendOption());
}

/** `--backend`: choices from @gpl/core; without the flag, `GPL_BACKEND` decides. */
export function backendOption() {
  // The default stays 'auto': a GPL_BACKEND value is read (and checked, named as the variable) by
  // `parseBackend`, not offered to yargs as the flag's default, which would report it as a flag.
  return { type: 'string' as const, requiresArg: true, choices: BACKEND_PREFERENCES as unknown as string[], default: 'auto', describe: 'TensorFlow.js backend (default: GPL_BACKEND, else auto)' };
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

/**
 * The error to report for `err` from opening a dataset: a folder that is not of the format
 * (`DataError('wrong-layout')`, naming the root) gains the flags that fix it; others pass unchanged.
 * @param dataset the `--dataset` in use; `datasets` every value it accepts.
 */
export function explainDataRoot(err: unknown, dataset: string, datasets: readonly string[]): unknown {
  if (!isDataError(err) || err.code !== 'wrong-layout') return err;
  const others = datasets.filter((d) => d !== dataset);
  const alternatives = others.length > 1 ? `${others.slice(0, -1).join(', ')} or ${others[others.length - 1]}` : others.join('');
  return new UsageError(`${err.message} Pass the folder of a ${dataset} dataset as --data-root${alternatives ? `, or --dataset ${alternatives} if it holds another format` : ''}.`);
}

/** Starts the backend and logs what runs and why. */
export async function startBackend(prefer: BackendPreference, log: (line: string) => void = (l) => console.log(l)): Promise<BackendReport> {
  const report = await initBackend({ prefer });
  log(`backend: ${formatBackendReport(report)}`);
  return report;
}

/**
 * A CLI's arguments made safe for yargs: a value that starts with a minus sign (`--shard -1/2`,
 * `--crop -64,64`) is joined to its flag (`--shard=-1/2`) so it reaches the option's check instead
 * of reading as short flags, and a flag given more than once is refused (yargs would turn it into
 * an array that no option expects).
 * @param task the message prefix, e.g. 'seg'.
 */
export function prepareArgs(args: readonly string[], task: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if (/^--[^=]+$/.test(a) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  const values = new Map<string, string[]>();
  for (let i = 0; i < out.length; i++) {
    const a = out[i];
    if (a === '--') break;
    if (!a.startsWith('--')) continue;
    const [name, inline] = a.slice(2).split(/=(.*)/s);
    const flag = kebab(name.replace(/^no-/, ''));
    const value = inline ?? (out[i + 1] !== undefined && !out[i + 1].startsWith('-') ? out[i + 1] : a.startsWith('--no-') ? 'false' : 'true');
    values.set(flag, [...(values.get(flag) ?? []), value]);
  }
  for (const [flag, given] of values) {
    if (given.length > 1) {
      throw new UsageError(`[${task}] --${flag} was given ${given.length} times (${given.join(', ')}); give it once.`);
    }
  }
  return out;
}

/**
 * yargs' `.fail`: a usage error (unknown flag, bad choice) becomes a `UsageError` of one line,
 * which `runCli` prints without a stack and ends with exit code 1; errors from handlers pass on.
 */
export function failOnUsage(msg: string | undefined, err: Error | undefined): never {
  // yargs reports some usage errors (a flag without its value) as a YError rather than a message.
  if (err && err.name !== 'YError') throw err;
  const oneLine = String(msg ?? err?.message ?? 'invalid arguments').replace(/\s*\n\s*/g, ' ').trim();
  throw new UsageError(`${oneLine}${/[.:]$/.test(oneLine) ? '' : '.'} Run with --help for the options.`);
}

/** A CLI's main, called with its arguments (without `node` and the script). */
export type CliMain = (args: readonly string[]) => Promise<void>;

/**
 * Runs a CLI's main in this process and returns its exit code: 0, or for an error 1 (3 for a
 * non-finite loss) after printing the message of an expected failure (its stack under
 * `--verbose` / `GPL_DEBUG=1`) or the stack of an unexpected one. Tests call it directly.
 */
export async function runCliMain(main: CliMain, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const verbose = args.includes('--verbose') || env.GPL_DEBUG === '1';
  try {
    await main(args);
    return EXIT_CODES.ok;
  } catch (err) {
    console.error(formatError(err, verbose));
    return exitCodeOf(err);
  }
}

/** Runs a CLI's main as the process: exits with `runCliMain`'s code on failure. */
export function runCli(main: CliMain, args: readonly string[] = process.argv.slice(2)): void {
  void runCliMain(main, args).then((code) => {
    if (code !== EXIT_CODES.ok) process.exit(code);
  });
}

/**
 * Runs an Nx target of this workspace as a child process, its output streamed (what
 * `--teacher-pipeline` does before a student trains: the teacher targets, cached by Nx). Throws
 * naming the target and `fix` when it fails.
 * @param workspaceRoot the folder holding node_modules/.bin/nx.
 */
export function runNxTarget(target: string, o: { readonly task: string; readonly flag: string; readonly fix: string; readonly workspaceRoot: string }): void {
  const nx = path.join(o.workspaceRoot, 'node_modules', '.bin', 'nx');
  const r = spawnSync(nx, ['run', target, '--outputStyle=stream'], { cwd: o.workspaceRoot, stdio: 'inherit' });
  if (r.status !== 0) {
    throw new RangeError(
      `[${o.task}] ${o.flag}: npx nx run ${target} ${r.error ? `could not start (${r.error.message})` : `failed (exit code ${r.status ?? r.signal})`}; its output is above. ${o.fix}`,
    );
  }
}
