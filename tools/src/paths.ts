import * as path from 'path';

/** The workspace root (tools/ scripts run from anywhere). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..');

/** Where the embedded mini datasets live. */
export const DATASETS_DIR = path.join(WORKSPACE_ROOT, 'datasets');

/** Where benchmarks write their JSON. */
export const BENCH_RESULTS_DIR = path.join(WORKSPACE_ROOT, 'bench-results');
