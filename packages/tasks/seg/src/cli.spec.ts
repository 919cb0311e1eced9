/**
 * The `seg` command line as a user runs it (a child process through tsx, wasm backend, tiny
 * sizes on the embedded Cityscapes mini dataset): flag errors, a smoke training run with teacher
 * soft labels, `kill -9` then `--resume`, `eval` in both inference modes, `compare`, and refusals
 * of soft labels made for something else.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openCityscapes } from '@gpl/cityscapes';
import sharp from 'sharp';
import { decodePng, sha256, writeSoftLabels } from '@gpl/data';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const sha256File = (file: string) => sha256(fs.readFileSync(file));

const TSX = path.join(WORKSPACE_ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(WORKSPACE_ROOT, 'packages/tasks/seg/src/main.ts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seg-cli-'));
const env = { ...process.env, GPL_BACKEND: 'wasm', FORCE_COLOR: '0' };
const SIZES = ['--width', '0.125', '--crop', '64,64', '--batch', '2', '--backend', 'wasm'];
const TINY = [...SIZES, '--eval-every', '0'];

function seg(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(TSX, ['--tsconfig', 'tsconfig.base.json', MAIN, ...args], { cwd: WORKSPACE_ROOT, env, encoding: 'utf8', maxBuffer: 32 * 2 ** 20 });
}

const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

/**
 * Soft labels in the teacher:generate layout: a blurred one-hot of the ground truth at stride 8
 * (80% on the block's majority class), with the manifest the task checks.
 */
async function writeTeacherLabels(dir: string, patch: Record<string, unknown> = {}): Promise<void> {
  const ds = await openCityscapes({ root: path.join(WORKSPACE_ROOT, 'datasets/cityscapes-mini'), split: 'train' });
  const files: Record<string, unknown> = {};
  const K = ds.classNames.length;
  for (let i = 0; i < ds.length; i++) {
    const s = await ds.get(i);
    const h = s.label.height / 8;
    const w = s.label.width / 8;
    const data = new Float32Array(h * w * K).fill(0.2 / (K - 1));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const c = s.label.data[(y * 8 + 4) * s.label.width + x * 8 + 4];
        if (c < K) data[(y * w + x) * K + c] = 0.8;
      }
    }
    const file = await writeSoftLabels(dir, s.id, { data, height: h, width: w, channels: K });
    files[s.id] = { file: path.basename(file), height: h, width: w, channels: K, sha256: sha256File(file) };
  }
  const manifest = { format: 'gpl-soft-labels/1', model: 'blurred-ground-truth', checkpoint: '-', dataset: 'cityscapes', dataRoot: 'datasets/cityscapes-mini', split: 'train', numClasses: K, classNames: ds.classNames, stride: 8, files, ...patch };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
}

const soft = path.join(tmp, 'soft');

beforeAll(async () => {
  await writeTeacherLabels(soft);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('seg CLI: flags', () => {
  it('documents every flag of the issue in --help', () => {
    const r = seg(['train', '--help']);
    expect(r.status).toBe(0);
    for (const f of ['--dataset', '--data-root', '--model', '--width', '--crop', '--batch', '--iters', '--lr', '--poly-power', '--momentum', '--weight-decay', '--seed', '--percep', '--percep-lambda', '--percep-kernel', '--percep-init', '--percep-levels', '--percep-reduction', '--percep-scale', '--soft-labels', '--eval-every', '--resume', '--out', '--backend']) {
      expect({ f, listed: r.stdout.includes(f) }).toEqual({ f, listed: true });
    }
  });

  it.each([
    [['--itres', '5'], 'Unknown argument: itres'],
    [['--model', 'unet'], 'Invalid values'],
    [['--lr', '-1'], "[seg] option 'lr': expected a finite learning rate > 0, received -1"],
    [['--crop', '100,64'], "[seg] option 'crop': expected [height, width], positive multiples of 32"],
    [['--percep', 'vgg17'], "[seg] option 'percep'"],
    [['--percep-init', 'gauss'], "[seg] option 'percepInit'"],
    [['--crop', '64,64', '--percep-scale', '0.125'], "[seg] option 'percepScale': 0.125 of the 64×64 crop is 8×8, smaller than the 16×16 the loss network 1,1,1,1,1 needs; use percepScale 0.25 or more, or a larger crop."],
  ])('rejects %j with a message and no stack trace', (args, message) => {
    const r = seg(['train', ...args, '--out', path.join(tmp, 'never')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
  });
});

describe('seg CLI: runs', () => {
  const run = path.join(tmp, 'smoke');

  it('trains PSPNet-R18 with GPL against teacher soft labels and prints val mIoU and the run folder', () => {
    const r = seg(['train', ...TINY, '--iters', '4', '--soft-labels', soft, '--out', run]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`soft labels: ${soft} (teacher blurred-ground-truth, stride 8)`);
    expect(r.stdout).toMatch(/val mIoU \d+\.\d\d%\s+pixel accuracy \d+\.\d\d%/);
    expect(r.stdout).toContain('run folder:');
    const cfg = read(path.join(run, 'config.json'));
    expect(cfg).toMatchObject({ model: 'pspnet-r18', percep: '1,1,1,1,1', percepLambda: 0.1, softLabels: soft, iters: 4, crop: [64, 64] });
    const csv = fs.readFileSync(path.join(run, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(5);
    // Every step logged CE, the auxiliary CE and a positive GPL term.
    for (const line of csv.slice(1)) {
      const [, , loss, ce, aux, gpl] = line.split(',').map(Number);
      expect(gpl).toBeGreaterThan(0);
      expect(loss).toBeCloseTo(ce + 0.4 * aux + 0.1 * gpl, 4);
    }
    for (const f of ['plots/loss.png', 'plots/lr.png', 'plots/miou.png', 'plots/pixel_accuracy.png', 'final.json']) expect(fs.existsSync(path.join(run, f))).toBe(true);
    expect(fs.readdirSync(path.join(run, 'samples')).length).toBeGreaterThan(0);
  });

  it('evaluates the checkpoint with whole-image and sliding-window inference, exporting predictions as palette PNGs', async () => {
    const exported = path.join(tmp, 'export');
    const r = seg(['eval', '--checkpoint', run, '--crop', '64,64', '--backend', 'wasm', '--export', exported, '--overlays', '1']);
    expect(r.status).toBe(0);
    // Every val image once per mode, as 8-bit palette PNGs of class indices in the Cityscapes colours.
    const val = await openCityscapes({ root: path.join(WORKSPACE_ROOT, 'datasets/cityscapes-mini'), split: 'val' });
    const s0 = await val.get(0);
    for (const mode of ['whole', 'slide']) expect(fs.readdirSync(path.join(exported, mode)).sort()).toEqual((await val.sampleIds()).map((id) => `${id}.png`).sort());
    const png = decodePng(fs.readFileSync(path.join(exported, 'whole', `${s0.id}.png`)));
    expect([png.width, png.height, png.channels]).toEqual([s0.image.width, s0.image.height, 1]);
    expect(png.palette?.slice(0, 19)).toEqual(val.palette.map((c) => [...c]));
    expect(Math.max(...png.data)).toBeLessThan(19);
    // The drawing: three titled panels side by side, the title row and legend around them.
    const drawing = await sharp(path.join(run, 'eval-samples', 'whole', `${s0.id}.png`)).metadata();
    expect(drawing.width).toBe(3 * s0.image.width + 8);
    expect(drawing.height).toBeGreaterThan(s0.image.height + 18);
    expect(r.stdout).toContain('whole-image inference');
    expect(r.stdout).toContain('sliding-window (64×64) inference');
    expect(r.stdout).toContain('road');
    // The whole-image mIoU printed by eval is the one train wrote to final.json.
    const final = read(path.join(run, 'final.json'));
    const means = [...r.stdout.matchAll(/^mean\s+([\d.]+)/gm)].map((m) => Number(m[1]));
    expect(means.length).toBe(2);
    expect(means[0]).toBeCloseTo(100 * final.mIoU, 2);
  });

  it('refuses to evaluate a checkpoint on a dataset it was not trained on', () => {
    const r = seg(['eval', '--checkpoint', run, '--dataset', 'voc', '--backend', 'wasm']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[seg\] eval: checkpoint .* was trained on 'cityscapes', not 'voc'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('after kill -9 mid-run, --resume ends with the metrics and weights of an uninterrupted run', async () => {
    const args = ['train', ...TINY, '--iters', '6', '--checkpoint-every', '1', '--soft-labels', 'none'];
    const full = path.join(tmp, 'full');
    expect(seg([...args, '--out', full]).status).toBe(0);

    const cut = path.join(tmp, 'cut');
    const child = spawn(TSX, ['--tsconfig', 'tsconfig.base.json', MAIN, ...args, '--out', cut], { cwd: WORKSPACE_ROOT, env, detached: true, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const marker = path.join(cut, 'checkpoints', 'step-00000003');
    const deadline = Date.now() + 120_000;
    while (!fs.existsSync(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(marker)).toBe(true);
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    expect(fs.existsSync(path.join(cut, 'final.json'))).toBe(false);

    const r = seg([...args, '--out', cut, '--resume']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/resumed from .*step-0000000\d at step \d\/6/);
    const a = read(path.join(full, 'final.json'));
    const b = read(path.join(cut, 'final.json'));
    expect(b.mIoU).toBe(a.mIoU);
    expect(b.pixelAccuracy).toBe(a.pixelAccuracy);
    const weights = (dir: string) => fs.readFileSync(path.join(dir, 'checkpoints', 'step-00000006', 'weights.bin'));
    expect(Buffer.compare(weights(full), weights(cut))).toBe(0);
  });

  it('compares the baseline and +GPL over seeds: a mean ± std table and a plot', () => {
    const out = path.join(tmp, 'compare');
    const r = seg(['compare', ...SIZES, '--iters', '2', '--eval-every', '1', '--seeds', '1,2', '--soft-labels', 'none', '--out', out]);
    expect(r.status).toBe(0);
    const md = fs.readFileSync(path.join(out, 'compare.md'), 'utf8');
    expect(md).toMatch(/\| baseline \(cross-entropy\) \| \d+\.\d\d ± \d+\.\d\d \| \d+\.\d\d ± \d+\.\d\d \|/);
    expect(md).toMatch(/\| \+GPL \(1,1,1,1,1, λ 0\.1, one-hot target\) \| \d+\.\d\d ± \d+\.\d\d/);
    expect(fs.existsSync(path.join(out, 'compare.png'))).toBe(true);
    for (const v of ['baseline-seed1', 'baseline-seed2', 'gpl-seed1', 'gpl-seed2']) expect(read(path.join(out, v, 'config.json')).iters).toBe(2);
    expect(read(path.join(out, 'baseline-seed2', 'config.json'))).toMatchObject({ percep: 'none', seed: 2 });
  });
});

describe('seg CLI: soft labels made for something else', () => {
  it.each([
    [{ dataset: 'voc' }, "made for dataset 'voc', the run trains on 'cityscapes'"],
    [{ numClasses: 21 }, 'has 21 classes, the dataset has 19'],
    [{ split: 'val' }, "made for split 'val', the run trains on 'train'"],
  ])('refuses a manifest with %j', async (patch, message) => {
    const dir = path.join(tmp, `bad-${Object.keys(patch)[0]}`);
    await writeTeacherLabels(dir, patch);
    const r = seg(['train', ...TINY, '--iters', '1', '--soft-labels', dir, '--out', path.join(dir, 'run')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a soft-label file whose checksum does not match the manifest', async () => {
    const dir = path.join(tmp, 'bad-sum');
    await writeTeacherLabels(dir);
    const victim = fs.readdirSync(dir).find((f) => f.endsWith('.gplsoft'))!;
    fs.appendFileSync(path.join(dir, victim), 'x');
    const r = seg(['train', ...TINY, '--iters', '1', '--soft-labels', dir, '--out', path.join(dir, 'run')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`'${victim}' has checksum`);
  });
});
