/**
 * The CondInst task on coco-mini at tiny sizes (ResNet-18 at 1/8 width, two steps): exact resume,
 * the run folder and its CSV columns, a student trained against a teacher checkpoint, the teacher
 * refused when its classes differ, and the canvas refusal naming --canvas.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { initBackend, resolveCheckpoint } from '@gpl/core';
import { defaultCondInstConfig, validateCondInstConfig, type CondInstConfig } from './config';
import { canvasFor, padToCanvas, trainCondInst as train } from './task';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'condinst-train-'));
const quiet = { log: () => undefined, progressStream: { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream, samples: 1 };

function tiny(out: string, patch: Partial<CondInstConfig> = {}): CondInstConfig {
  return {
    ...defaultCondInstConfig,
    dataRoot: path.join(WORKSPACE_ROOT, 'datasets/coco-mini'),
    backbone: 'resnet18',
    width: 0.125,
    iters: 2,
    evalEvery: 0,
    checkpointEvery: 1,
    teacher: '',
    percepEngine: 'tfjs',
    out: path.join(tmp, out),
    backend: 'wasm',
    ...patch,
  };
}

const latestFile = (run: string, file: string) => fs.readFileSync(path.join(resolveCheckpoint(path.join(tmp, run, 'checkpoints'))!, file));

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('condinst task on coco-mini', () => {
  it('resumed after an interruption, ends bit for bit where an uninterrupted run ends', async () => {
    const full = await train(tiny('full'), quiet);
    expect(full.status).toBe('done');
    await train(tiny('cut'), { ...quiet, stopAfter: 1 });
    const resumed = await train(tiny('cut', { resume: true }), quiet);
    expect(resumed.step).toBe(2);
    expect(Buffer.compare(latestFile('full', 'weights.bin'), latestFile('cut', 'weights.bin'))).toBe(0);
    expect(Buffer.compare(latestFile('full', 'optimizer.bin'), latestFile('cut', 'optimizer.bin'))).toBe(0);
    expect(resumed.final!.mask.stats).toEqual(full.final!.mask.stats);
  });

  it('writes the run folder with the loss terms and AP columns, final.json and a drawing', () => {
    const run = path.join(tmp, 'full');
    for (const f of ['config.json', 'metrics.csv', 'final.json', 'checkpoints/best', 'plots/loss.png', 'plots/mask_ap.png', 'plots/box_ap.png']) {
      expect({ f, exists: fs.existsSync(path.join(run, f)) }).toEqual({ f, exists: true });
    }
    expect(fs.readFileSync(path.join(run, 'metrics.csv'), 'utf8').split('\n')[0]).toBe(
      'step,lr,loss,loss_fcos_cls,loss_fcos_loc,loss_fcos_ctr,loss_mask,loss_gpl,seconds,val_box_ap,val_mask_ap,val_box_ap50,val_mask_ap50',
    );
    const final = JSON.parse(fs.readFileSync(path.join(run, 'final.json'), 'utf8'));
    expect(final.box.length).toBe(12);
    expect(final.classNames).toEqual(['person', 'car', 'stop sign', 'frisbee', 'sports ball', 'kite', 'bottle', 'tv']);
    expect(fs.readdirSync(path.join(run, 'samples')).length).toBe(1);
  });

  it('trains a student against a teacher checkpoint (GPL on the teacher’s masks), and refuses a teacher that is not one', async () => {
    const lines: string[] = [];
    const r = await train(tiny('student', { teacher: path.join(tmp, 'full'), iters: 1 }), { ...quiet, log: (l: string) => lines.push(l) });
    expect(r.status).toBe('done');
    expect(lines.join('\n')).toMatch(/GPL target: teacher masks from .*full.*step-00000002/);
    await expect(train(tiny('bad-teacher', { teacher: path.join(tmp, 'nowhere') }), quiet)).rejects.toThrow(/--teacher .*nowhere: does not exist/);
    expect(fs.existsSync(path.join(tmp, 'bad-teacher'))).toBe(false);
  });
});

describe('--pretrained', () => {
  const fixture = (name: string) => {
    const out = path.join(tmp, name);
    fs.writeFileSync(out, zlib.gunzipSync(fs.readFileSync(path.join(WORKSPACE_ROOT, 'packages/weights/src/fixtures', `${name}.gz`))));
    return out;
  };

  it('starts the encoder from a PyTorch file, logging what it matched, and refuses one of another width', async () => {
    const file = fixture('resnet18-w8.safetensors');
    const lines: string[] = [];
    const r = await train(tiny('pretrained', { pretrained: file, iters: 1, percep: 'none' }), { ...quiet, plots: false, log: (l: string) => lines.push(l) });
    expect(r.status).toBe('done');
    expect(lines.join('\n')).toMatch(/pretrained: 100 encoder weights from .*resnet18-w8\.safetensors; \d+ weights outside the encoder keep their initialisation/);
    await expect(train(tiny('pretrained-wide', { pretrained: file, width: 0.25 }), quiet)).rejects.toThrow(
      /^\[condinst\] option 'pretrained': .*resnet18-w8\.safetensors: 'conv1\.weight' does not fit conv1\/kernel: \[8,3,7,7\] \(OIHW\) becomes \[7,7,3,8\], the model has \[7,7,3,16\]\. It must be a torchvision-layout resnet18 state dict at width 0\.25/,
    );
    expect(fs.existsSync(path.join(tmp, 'pretrained-wide'))).toBe(false);
  });
});

describe('canvas and config', () => {
  it('finds the smallest canvas holding the largest resize, and refuses larger samples naming --canvas', () => {
    const recipe = { minSizes: [152, 192], maxSize: 320, testMinSize: 192, testMaxSize: 320, flipProb: 0.5 };
    // 256×192 (w×h) at short edge 192 stays 192×256; a portrait 192×256 becomes 256×192 → canvas 256×256.
    expect(canvasFor([{ height: 192, width: 256 }], recipe)).toEqual([192, 256]);
    expect(canvasFor([{ height: 192, width: 256 }, { height: 256, width: 192 }], recipe)).toEqual([256, 256]);
    const big = { kind: 'instances', id: 'x', image: { data: new Uint8Array(200 * 64 * 3), width: 64, height: 200, channels: 3 }, instances: [] } as const;
    expect(() => padToCanvas([192, 256]).apply(big, { next: () => 0 })).toThrow("[condinst] option 'canvas': sample x is 200×64 after resizing, larger than the canvas 192×256; raise --canvas");
  });

  it('names the option, the expectation and the value', () => {
    const bad: [Partial<CondInstConfig>, string][] = [
      [{ backbone: 'vgg' as never }, "option 'backbone': expected one of resnet18"],
      [{ canvas: [100, 128] }, "option 'canvas': expected height,width as positive multiples of 32"],
      [{ maxProposals: 0 }, "option 'maxProposals': expected a positive integer, received 0"],
      [{ radius: -1 }, "option 'radius': expected a number ≥ 0"],
      [{ width: 0 }, "option 'width': expected a multiplier in (0, 4], received 0"],
    ];
    for (const [patch, msg] of bad) expect(() => validateCondInstConfig({ ...defaultCondInstConfig, out: 'x', ...patch })).toThrow(msg);
  });
});
