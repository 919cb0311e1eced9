import './setup';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { formatBackendReport, initBackend, parseBackendPreference } from './backend';

function notFound(pkg: string): Error {
  const err = new Error(`Cannot find module '${pkg}'`) as Error & { code: string };
  err.code = 'MODULE_NOT_FOUND';
  return err;
}

/** Simulates this machine's situation: no native packages, wasm and cpu present. */
function loader(overrides: Record<string, () => unknown> = {}): (pkg: string) => unknown {
  return (pkg) => {
    if (overrides[pkg]) return overrides[pkg]();
    if (pkg.startsWith('@tensorflow/tfjs-node')) throw notFound(pkg);
    return require(pkg);
  };
}

afterEach(async () => {
  if (tf.findBackend('tensorflow') || tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
  await tf.setBackend('cpu');
});

describe('initBackend', () => {
  it('falls through absent native packages to wasm and says why each was skipped', async () => {
    const r = await initBackend({ load: loader() });
    expect(r.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(r.device).toBe('cpu');
    expect(r.skipped).toEqual([
      { pkg: '@tensorflow/tfjs-node-gpu', reason: 'not installed' },
      { pkg: '@tensorflow/tfjs-node', reason: 'not installed' },
    ]);
    expect(r.details.simd).toBe(true);
    expect(formatBackendReport(r)).toMatch(/^wasm \(@tensorflow\/tfjs-backend-wasm, cpu, simd\); skipped: @tensorflow\/tfjs-node-gpu — not installed/);
  });

  it('survives a native package that is present but fails to load', async () => {
    const r = await initBackend({
      load: loader({
        '@tensorflow/tfjs-node-gpu': () => {
          throw new Error('libcudart.so.11.0: cannot open shared object file\n    at Module._extensions');
        },
      }),
    });
    expect(r.backend).toBe('wasm');
    expect(r.skipped[0]).toEqual({
      pkg: '@tensorflow/tfjs-node-gpu',
      reason: 'failed to load: libcudart.so.11.0: cannot open shared object file',
    });
  });

  it('reports a GPU package that loaded but runs on the CPU (no CUDA device)', async () => {
    const r = await initBackend({
      load: loader({
        // Registers a native-like backend whose device flag says "no GPU", as tfjs-node-gpu does on CUDA 12.
        '@tensorflow/tfjs-node-gpu': () =>
          tf.registerBackend('tensorflow', () => Object.assign(new MathBackendCPU(), { isUsingGpuDevice: false })),
      }),
    });
    expect(r.backend).toBe('tensorflow');
    expect(r.pkg).toBe('@tensorflow/tfjs-node-gpu');
    expect(r.device).toBe('cpu');
    expect(String(r.details.note)).toMatch(/no CUDA device in use/);
  });

  it('reports a GPU that is really in use', async () => {
    const r = await initBackend({
      load: loader({
        '@tensorflow/tfjs-node-gpu': () =>
          tf.registerBackend('tensorflow', () => Object.assign(new MathBackendCPU(), { isUsingGpuDevice: true })),
      }),
    });
    expect(r.device).toBe('gpu');
    expect(r.details.note).toBeUndefined();
  });

  it('skips a package that loads but registers no working backend', async () => {
    const r = await initBackend({ load: loader({ '@tensorflow/tfjs-node-gpu': () => ({}) }) });
    expect(r.skipped[0].reason).toMatch(/did not initialise/);
    expect(r.backend).toBe('wasm');
  });

  it('honours an override and refuses an unsatisfiable one', async () => {
    const cpu = await initBackend({ prefer: 'cpu', load: loader() });
    expect(cpu.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(cpu.skipped.map((s) => s.reason)).toEqual([
      "not requested (backend 'cpu' was asked for)",
      "not requested (backend 'cpu' was asked for)",
      "not requested (backend 'cpu' was asked for)",
    ]);
    await expect(initBackend({ prefer: 'tensorflow', load: loader() })).rejects.toThrow(
      /no backend could be used for preference 'tensorflow'.*tfjs-node-gpu: not installed/,
    );
  });

  it('validates backend names from flags and the environment', () => {
    expect(parseBackendPreference(undefined, 'GPL_BACKEND')).toBe('auto');
    expect(parseBackendPreference(' WASM ', 'GPL_BACKEND')).toBe('wasm');
    expect(() => parseBackendPreference('gpu', '--backend')).toThrow("--backend = 'gpu' is not a backend; expected one of auto, tensorflow, wasm, cpu.");
  });
});
