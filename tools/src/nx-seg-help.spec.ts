/**
 * `nx run seg:train -- --help` and a bad flag through Nx answer from the seg CLI alone: no teacher
 * target runs first (the teacher pipeline starts inside seg:train, after its flags are checked).
 * Asserted on what Nx ran, from its own task log.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const NX = path.join(ROOT, 'node_modules', '.bin', 'nx');

function nx(args: readonly string[]) {
  const r = spawnSync(NX, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0', GPL_BACKEND: 'wasm' },
    maxBuffer: 16 * 2 ** 20,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** The `nx run <project>:<target>` tasks Nx started, from the headers it prints per task. */
const tasksRun = (out: string) => [...out.matchAll(/^> nx run ([\w-]+:[\w-]+)/gm)].map((m) => m[1]);

describe('nx run seg:train through Nx', () => {
  it('prints the help without running any teacher target', () => {
    const r = nx(['run', 'seg:train', '--outputStyle=stream-without-prefixes', '--', '--help']);
    expect(r.status).toBe(0);
    expect(r.out).toContain('train a segmentation model');
    expect(r.out).toContain('--teacher-pipeline');
    expect(tasksRun(r.out)).toEqual(['seg:train']);
    expect(r.out).not.toMatch(/^> nx run teacher:/m);
    expect(r.out).toMatch(/Successfully ran target train for project seg\s/);
    expect(r.out).not.toMatch(/tasks? it depends on/);
  });

  it('refuses a bad flag in one line, again without running a teacher target', () => {
    const r = nx(['run', 'seg:train', '--outputStyle=stream-without-prefixes', '--', '--itres', '5']);
    expect(r.status).toBe(1);
    expect(r.out).toContain('Unknown argument: itres. Run with --help for the options.');
    expect(r.out).not.toMatch(/\n\s+at /);
    expect(tasksRun(r.out)).toEqual(['seg:train']);
    expect(r.out).not.toMatch(/^> nx run teacher:/m);
  });
});
