import './setup';
import * as tf from '@tensorflow/tfjs-core';
import { installGradientCompleteness } from './gradients';

/** A backend the user can ask for by name (`--backend`, `GPL_BACKEND`). */
export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/** One entry of the fixed order in which backends are tried. */
interface Candidate {
  /** npm package that provides the backend. */
  readonly pkg: string;
  /** Name the package registers with the TensorFlow.js engine. */
  readonly backend: string;
  /** Which preference this candidate satisfies. */
  readonly kind: Exclude<BackendPreference, 'auto'>;
  /** Whether the package exists to drive a CUDA device. */
  readonly gpuPackage: boolean;
}

const CANDIDATES: readonly Candidate[] = [
  { pkg: '@tensorflow/tfjs-node-gpu', backend: 'tensorflow', kind: 'tensorflow', gpuPackage: true },
  { pkg: '@tensorflow/tfjs-node', backend: 'tensorflow', kind: 'tensorflow', gpuPackage: false },
  { pkg: '@tensorflow/tfjs-backend-wasm', backend: 'wasm', kind: 'wasm', gpuPackage: false },
  { pkg: '@tensorflow/tfjs-backend-cpu', backend: 'cpu', kind: 'cpu', gpuPackage: false },
];

export interface SkippedBackend {
  readonly pkg: string;
  readonly reason: string;
}

/** What `initBackend` chose and why the others were passed over. */
export interface BackendReport {
  /** Engine backend name: 'tensorflow', 'wasm' or 'cpu'. */
  readonly backend: string;
  /** Package that provided it. */
  readonly pkg: string;
  /** Device the kernels really run on. tfjs-node-gpu without a usable CUDA runtime runs on the CPU. */
  readonly device: 'gpu' | 'cpu';
  /** Extra facts about the chosen backend (wasm SIMD, threads). */
  readonly details: Readonly<Record<string, string | number | boolean>>;
  /** Every backend tried before (or instead of) the chosen one, with the reason. */
  readonly skipped: readonly SkippedBackend[];
}

export interface InitBackendOptions {
  /** 'auto' (default) tries tfjs-node-gpu, tfjs-node, wasm, cpu in that order. */
  readonly prefer?: BackendPreference;
  /**
   * Loads a package by name. Defaults to `require`; tests substitute it to simulate
   * packages that are absent or broken.
   */
  readonly load?: (pkg: string) => unknown;
}

/** Validates a user-supplied backend name (from a flag or an environment variable). */
export function parseBackendPreference(value: string | undefined, source: string): BackendPreference {
  if (value === undefined || value === '') return 'auto';
  const v = value.trim().toLowerCase();
  if ((BACKEND_PREFERENCES as readonly string[]).includes(v)) return v as BackendPreference;
  throw new RangeError(
    `[@gpl/core] ${source} = '${value}' is not a backend; expected one of ${BACKEND_PREFERENCES.join(', ')}.`,
  );
}

function describeLoadError(pkg: string, err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'MODULE_NOT_FOUND' && String(e.message ?? '').includes(pkg)) return 'not installed';
  const first = String(e?.message ?? err).split('\n')[0];
  return `failed to load: ${first}`;
}

/** The native backend object exposes whether TensorFlow really placed kernels on a GPU. */
function nativeUsesGpu(): boolean {
  const b = tf.backend() as unknown as { isUsingGpuDevice?: boolean | (() => boolean) };
  const flag = b.isUsingGpuDevice;
  return typeof flag === 'function' ? Boolean(flag.call(b)) : Boolean(flag);
}

async function wasmDetails(): Promise<Record<string, boolean>> {
  const details: Record<string, boolean> = {};
  for (const [flag, key] of [
    ['WASM_HAS_SIMD_SUPPORT', 'simd'],
    ['WASM_HAS_MULTITHREAD_SUPPORT', 'threads'],
  ] as const) {
    try {
      details[key] = Boolean(await tf.env().getAsync(flag));
    } catch {
      // Flag not registered by this wasm build: leave it out of the report.
    }
  }
  return details;
}

/**
 * Chooses the fastest TensorFlow.js backend that loads, makes gradients complete on it
 * (see `installGradientCompleteness`) and reports the choice. Never throws because an
 * optional native package is missing or broken, unless that package was asked for by name.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const prefer = options.prefer ?? 'auto';
  const load = options.load ?? ((pkg: string) => require(pkg));
  const skipped: SkippedBackend[] = [];

  for (const c of CANDIDATES) {
    if (prefer !== 'auto' && c.kind !== prefer) {
      skipped.push({ pkg: c.pkg, reason: `not requested (backend '${prefer}' was asked for)` });
      continue;
    }
    try {
      if (c.kind !== 'cpu') load(c.pkg);
    } catch (err) {
      skipped.push({ pkg: c.pkg, reason: describeLoadError(c.pkg, err) });
      continue;
    }
    let ok = false;
    try {
      ok = tf.findBackendFactory(c.backend) != null && (await tf.setBackend(c.backend));
    } catch (err) {
      skipped.push({ pkg: c.pkg, reason: `failed to initialise: ${String((err as Error)?.message ?? err)}` });
      continue;
    }
    if (!ok) {
      skipped.push({ pkg: c.pkg, reason: `loaded, but backend '${c.backend}' did not initialise` });
      continue;
    }
    await tf.ready();
    if (c.backend === 'cpu') quietCpuBackend();
    const device: 'gpu' | 'cpu' = c.kind === 'tensorflow' && nativeUsesGpu() ? 'gpu' : 'cpu';
    const details: Record<string, string | boolean> = c.backend === 'wasm' ? await wasmDetails() : {};
    if (c.gpuPackage && device === 'cpu') {
      // CUDA 12 machines load tfjs-node-gpu and silently run on the CPU (libtensorflow 2.9 needs CUDA 11.2).
      details.note = 'no CUDA device in use (tfjs-node-gpu needs CUDA 11.2 + cuDNN 8.1); native kernels run on the CPU';
    }
    installGradientCompleteness();
    return { backend: c.backend, pkg: c.pkg, device, details, skipped };
  }
  const why = skipped.map((s) => `${s.pkg}: ${s.reason}`).join('; ');
  throw new Error(`[@gpl/core] initBackend: no backend could be used for preference '${prefer}' (${why}).`);
}

/**
 * Silences the plain-JavaScript backend's one-time "install our node backend" banner, which it
 * prints on its first tensor: the backend report has already said what runs and why. The banner
 * is guarded by the backend instance's `firstUse` flag (tfjs-backend-cpu's MathBackendCPU.write).
 */
export function quietCpuBackend(): void {
  const backend = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (backend && 'firstUse' in backend) backend.firstUse = false;
}

/** One line for logs: `wasm (@tensorflow/tfjs-backend-wasm, cpu, simd) — skipped: …`. */
export function formatBackendReport(r: BackendReport): string {
  const flags = Object.entries(r.details)
    .filter(([, v]) => v === true)
    .map(([k]) => k);
  const head = `${r.backend} (${[r.pkg, r.device, ...flags].join(', ')})`;
  if (r.skipped.length === 0) return head;
  return `${head}; skipped: ${r.skipped.map((s) => `${s.pkg} — ${s.reason}`).join('; ')}`;
}
