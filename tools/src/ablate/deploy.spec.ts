/**
 * The scheduler files call exactly the ablation CLI: the Kubernetes Indexed Job's command and the
 * Slurm array script, run by sh/bash with the scheduler's variables and `npx` replaced by a
 * recorder, give `nx run tools:ablate … --shard k/N` with N = the Job's completions, and those
 * arguments are accepted by the CLI (as a dry run).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from './main';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, 'deploy', f), 'utf8');

let tmp: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ablate-deploy-'));
  fs.mkdirSync(path.join(tmp, 'bin'));
  // Prints each argument on its own line instead of running npx.
  fs.writeFileSync(path.join(tmp, 'bin', 'npx'), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n', { mode: 0o755 });
  env = { PATH: `${path.join(tmp, 'bin')}:${process.env.PATH}`, HOME: tmp };
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The value of a `- >-` folded block of `args:` (YAML folds its lines with spaces). */
function foldedArgs(yaml: string): string {
  const lines = yaml.split('\n');
  const start = lines.findIndex((l) => /^\s+args:\s*$/.test(l)) + 1;
  const indent = (l: string) => l.length - l.trimStart().length;
  expect(lines[start].trim()).toBe('- >-');
  const body: string[] = [];
  for (let i = start + 1; i < lines.length && indent(lines[i]) > indent(lines[start]); i++) body.push(lines[i].trim());
  return body.join(' ');
}

async function acceptedByCli(args: string[]): Promise<void> {
  const tail = args.slice(args.indexOf('--') + 1);
  const lines: string[] = [];
  await main([...tail.map((a) => (a === 'runs/ablate' ? path.join(tmp, 'runs') : a)), '--soft-labels', 'none', '--dry-run'], { log: (l) => lines.push(l), checkSegFlags: false });
  expect(lines[0]).toMatch(/^ablate table2: 21 cells/);
}

describe('deploy files', () => {
  it('Kubernetes: an Indexed Job whose pod k runs shard k/completions', async () => {
    const job = read('kubernetes/ablate-job.yaml');
    expect(job).toMatch(/^\s+completionMode: Indexed$/m);
    const completions = /^\s+completions: (\d+)$/m.exec(job)![1];
    expect(job).toContain(`{ name: SHARDS, value: "${completions}" }`);
    const table = /\{ name: TABLE, value: "(\w+)" \}/.exec(job)![1];
    const seeds = /\{ name: SEEDS, value: "([\d,]+)" \}/.exec(job)![1];
    const r = spawnSync('sh', ['-c', foldedArgs(job)], { env: { ...env, TABLE: table, SEEDS: seeds, SHARDS: completions, JOB_COMPLETION_INDEX: '2' }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const args = r.stdout.trim().split('\n');
    expect(args).toEqual(['nx', 'run', 'tools:ablate', '--outputStyle=stream', '--', '--table', '2', '--seeds', '1,2,3', '--shard', `2/${completions}`, '--out', 'runs/ablate']);
    await acceptedByCli(args);
    expect(read('kubernetes/merge-job.yaml')).toContain('npx nx run tools:ablate --outputStyle=stream -- merge --table "$TABLE"');
  });

  it('Slurm: array task k of N runs shard k/N, and a non-0-based array is refused', async () => {
    const script = path.join(ROOT, 'deploy', 'slurm', 'ablate.sbatch');
    const run = (vars: Record<string, string>) => spawnSync('bash', [script], { env: { ...env, SLURM_SUBMIT_DIR: tmp, ...vars }, encoding: 'utf8' });
    const r = run({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0' });
    expect(r.status).toBe(0);
    const args = r.stdout.trim().split('\n');
    expect(args).toEqual(['nx', 'run', 'tools:ablate', '--outputStyle=stream', '--', '--table', '2', '--seeds', '1,2,3', '--shard', '1/4', '--out', 'runs/ablate']);
    await acceptedByCli(args);
    const bad = run({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1' });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('ablate.sbatch: the array must be --array=0-3 (0-based, contiguous); got task 4 of 4.');
  });
});
