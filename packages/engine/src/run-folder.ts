/**
 * Run folders and checkpoint paths. A run folder holds config.json, metrics.csv, checkpoints/
 * (step-* folders with `latest` and `best` pointers), plots/ and samples/. This module creates or
 * resumes one (refusing a resume whose options differ from the saved config), finds the newest
 * run of a task, and turns any path a user may give — a run folder, its checkpoints/ folder, a
 * step-* folder or a `latest`/`best` pointer — into one checkpoint folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { resolveCheckpoint } from '@gpl/core';
import { writeFileAtomic } from '@gpl/data';

/** `20261201-213000`: the time part of default run-folder names. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** The newest run folder under `root` that has a checkpoint (by the time of its `latest` pointer). */
export function newestRun(root: string): string | undefined {
  if (!fs.existsSync(root)) return undefined;
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, 'checkpoints', 'latest')))
    .map((e) => ({ dir: path.join(root, e.name), t: fs.statSync(path.join(root, e.name, 'checkpoints', 'latest')).mtimeMs }))
    .sort((a, b) => b.t - a.t)[0]?.dir;
}

/** A checkpoint folder found from a user's path, with what lies around it. */
export interface ResolvedCheckpoint {
  /** The step-* (or named) folder holding state.json and model.json. */
  readonly dir: string;
  /** The run folder, when the checkpoint sits in `<run>/checkpoints/`. */
  readonly runDir?: string;
  /** The checkpoint's state.json. */
  readonly state: Record<string, unknown>;
  /** The run's config.json, when there is one. */
  readonly config?: Record<string, unknown>;
}

function readJsonObject(file: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RangeError(`[@gpl/engine] ${file} (${what}) is not readable JSON: ${(e as Error).message}.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RangeError(`[@gpl/engine] ${file} (${what}): expected a JSON object, received ${JSON.stringify(value)}.`);
  }
  return value as Record<string, unknown>;
}

const isCheckpointFolder = (dir: string) => fs.existsSync(path.join(dir, 'state.json')) || fs.existsSync(path.join(dir, 'model.json'));

/**
 * The checkpoint a user means by `userPath`: a run folder or its checkpoints/ folder (the folder
 * `prefer` points at, falling back to `latest`), a step-* folder, or a pointer file.
 * @param option the flag name for messages, e.g. '--checkpoint'.
 */
export function resolveCheckpointPath(userPath: string, o: { prefer?: 'latest' | 'best'; option?: string; hint?: string } = {}): ResolvedCheckpoint {
  const option = o.option ?? '--checkpoint';
  const fail = (why: string): never => {
    throw new RangeError(
      `[@gpl/engine] ${option} ${userPath}: ${why} (expected a run folder, its checkpoints/ folder, a step-* folder or a latest/best pointer).${o.hint ? ` ${o.hint}` : ''}`,
    );
  };
  if (!userPath) fail('no path given');
  const p = path.resolve(userPath);
  if (!fs.existsSync(p)) fail('does not exist');
  let dir: string | undefined;
  if (fs.statSync(p).isFile()) {
    dir = resolveCheckpoint(path.dirname(p), path.basename(p));
  } else if (isCheckpointFolder(p)) {
    dir = p;
  } else {
    const root = fs.existsSync(path.join(p, 'checkpoints')) ? path.join(p, 'checkpoints') : p;
    const tag = o.prefer === 'best' && fs.existsSync(path.join(root, 'best')) ? 'best' : 'latest';
    dir = fs.existsSync(path.join(root, tag)) ? resolveCheckpoint(root, tag) : undefined;
  }
  if (!dir || !isCheckpointFolder(dir)) return fail('no checkpoint there');
  const stateFile = path.join(dir, 'state.json');
  const state = fs.existsSync(stateFile) ? readJsonObject(stateFile, 'checkpoint state') : {};
  const parent = path.dirname(dir);
  const runDir = path.basename(parent) === 'checkpoints' ? path.dirname(parent) : undefined;
  const configFile = runDir ? path.join(runDir, 'config.json') : undefined;
  const config = configFile && fs.existsSync(configFile) ? readJsonObject(configFile, 'run configuration') : undefined;
  return { dir, state, ...(runDir ? { runDir } : {}), ...(config ? { config } : {}) };
}

/**
 * Fields of two configs that differ (ignoring `ignore`), as `key (a there, b here)`.
 * @param absentMeans options added after older runs were made, with the value such a run used:
 *   absent from the saved config.json, the field reads as this value.
 */
export function configDifferences(saved: Record<string, unknown>, current: Record<string, unknown>, ignore: readonly string[], absentMeans: Readonly<Record<string, unknown>> = {}): string[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])].filter((k) => !ignore.includes(k));
  const savedValue = (k: string) => (saved[k] === undefined && k in absentMeans ? absentMeans[k] : saved[k]);
  // An option added after a run was made is absent from its config.json; empty here, it is the same run.
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b) || ((a === undefined || a === '') && (b === undefined || b === ''));
  return keys.filter((k) => !same(savedValue(k), current[k])).map((k) => `${k} (${JSON.stringify(saved[k])} there, ${JSON.stringify(current[k])} here)`);
}

/** Loop options added after runs were made, with the value an older config.json (without them) ran with. */
export const ADDED_LOOP_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({ percepReduction: 'mean' });

/** Config fields that do not change what a run computes: they may differ on resume. */
export const RUN_NEUTRAL_FIELDS: readonly string[] = Object.freeze(['resume', 'backend', 'out', 'verbose', 'percepEngine']);

/** An opened run folder. */
export interface RunFolder {
  readonly runDir: string;
  readonly checkpoints: string;
  readonly configFile: string;
  /** Whether this process created the folder (so a failure before the first step may remove it). */
  readonly created: boolean;
  /** When created: the outermost folder created with it (the run folder or an ancestor). */
  readonly createdFrom?: string;
  /**
   * When resuming: the checkpoints to try, newest first (the `latest` pointer's, then every other
   * step-* folder by step), so a damaged newest checkpoint falls back to an intact older one.
   */
  readonly resumeFrom?: readonly string[];
}

/** Step folders of a checkpoints/ folder, the `latest` pointer's first, then the others by step, newest first. */
export function resumeCandidates(checkpoints: string): string[] {
  if (!fs.existsSync(checkpoints)) return [];
  let latest: string | undefined;
  try {
    latest = resolveCheckpoint(checkpoints);
  } catch {
    latest = undefined; // a pointer at a missing folder: the step folders remain
  }
  const steps = fs
    .readdirSync(checkpoints, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^step-\d+$/.test(e.name))
    .map((e) => path.join(checkpoints, e.name))
    .sort()
    .reverse();
  return latest ? [latest, ...steps.filter((d) => d !== latest)] : steps;
}

/**
 * Creates the run folder of a new run (refusing one that already holds checkpoints) or opens the
 * one being resumed (refusing different options), and writes config.json.
 */
export async function openRunFolder(
  cfg: { readonly out: string; readonly resume: boolean } & Record<string, unknown>,
  o: { task: string; ignore?: readonly string[]; absentMeans?: Readonly<Record<string, unknown>> },
): Promise<RunFolder> {
  const runDir = path.resolve(cfg.out);
  const checkpoints = path.join(runDir, 'checkpoints');
  const configFile = path.join(runDir, 'config.json');
  if (fs.existsSync(runDir) && !fs.statSync(runDir).isDirectory()) {
    throw new RangeError(`[${o.task}] option 'out': ${cfg.out} is a file, expected a run folder; choose another --out.`);
  }
  const candidates = resumeCandidates(checkpoints);
  if (cfg.resume) {
    if (candidates.length === 0) {
      throw new RangeError(
        `[${o.task}] --resume: ${cfg.out} holds no checkpoint (expected ${path.join(cfg.out, 'checkpoints', 'step-*')}); check --out, or drop --resume to start a new run.`,
      );
    }
    if (fs.existsSync(configFile)) {
      const diff = configDifferences(readJsonObject(configFile, 'run configuration'), cfg, o.ignore ?? RUN_NEUTRAL_FIELDS, { ...ADDED_LOOP_OPTIONS, ...o.absentMeans });
      if (diff.length) {
        throw new RangeError(`[${o.task}] --resume: ${configFile} differs from this command in ${diff.join(', ')}. Resume with the same options, or start a new --out.`);
      }
    }
  } else if (candidates.length > 0 || fs.existsSync(path.join(checkpoints, 'latest'))) {
    throw new RangeError(`[${o.task}] ${runDir} already holds checkpoints: pass --resume to continue that run, or choose another --out.`);
  }
  const created = !fs.existsSync(runDir);
  // The outermost folder this call creates (runs/seg/ on a first run), so a failed start removes it too.
  let createdFrom = runDir;
  while (created && !fs.existsSync(path.dirname(createdFrom))) createdFrom = path.dirname(createdFrom);
  fs.mkdirSync(runDir, { recursive: true });
  await writeFileAtomic(configFile, JSON.stringify(cfg, null, 2) + '\n');
  return { runDir, checkpoints, configFile, created, ...(created ? { createdFrom } : {}), ...(cfg.resume ? { resumeFrom: candidates } : {}) };
}

/** Removes a run folder this process created (a run that failed before its first step leaves nothing behind). */
export function discardRunFolder(run: RunFolder): void {
  if (!run.created) return;
  fs.rmSync(run.runDir, { recursive: true, force: true });
  // Ancestors created with it go only while empty: another run may have started beside this one since.
  for (let dir = path.dirname(run.runDir); run.createdFrom && dir.length >= run.createdFrom.length && dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      fs.rmdirSync(dir);
    } catch {
      break;
    }
  }
}
