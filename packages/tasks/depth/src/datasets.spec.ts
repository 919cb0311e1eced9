/**
 * Depth datasets by name: nyudv2 (the package's descriptor) and custom folders with
 * "task": "depth", opened and augmented the way a run opens them.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@gpl/core';
import { encodePng, type DepthSample } from '@gpl/data';
import { defaultDepthConfig } from './config';
import { cameraOf, customDepthDataset, depthDataset } from './datasets';
import { depthTask } from './task';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'depth-custom-'));

function write(rel: string, data: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
  fs.writeFileSync(path.join(tmp, rel), data);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  write('classes.json', JSON.stringify({ task: 'depth', depthScale: 1000 }));
  for (const split of ['train', 'val']) {
    for (const stem of ['a', 'b']) {
      write(`images/${split}/${stem}.png`, encodePng({ width: 64, height: 48, channels: 3, bitDepth: 8, data: new Uint8Array(64 * 48 * 3).fill(90) }));
      write(`depth/${split}/${stem}.png`, encodePng({ width: 64, height: 48, channels: 1, bitDepth: 16, data: Uint16Array.from({ length: 64 * 48 }, (_, i) => (i % 7 === 0 ? 0 : 1500 + i)) }));
    }
  }
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('depth datasets', () => {
  it('opens a custom folder with "task": "depth" in metres, and refuses a segmentation folder', async () => {
    const ds = await customDepthDataset.open(tmp, 'train');
    const s = (await ds.get(0)) as DepthSample;
    expect([ds.length, s.kind, s.depth.width, s.depth.height]).toEqual([2, 'depth', 64, 48]);
    expect(s.depth.data[1]).toBeCloseTo(1.501, 6);
    expect(s.depth.data[0]).toBe(0);
    // No intrinsics in a custom folder: NYU's camera scaled to the image.
    const { camera, assumed } = cameraOf(ds, 64, 48);
    expect(assumed).toBe(true);
    expect(camera.fx).toBeCloseTo((518.8579 * 64) / 640, 6);
    const seg = fs.mkdtempSync(path.join(os.tmpdir(), 'depth-seg-'));
    fs.writeFileSync(path.join(seg, 'classes.json'), JSON.stringify({ task: 'segmentation', names: ['a', 'b'] }));
    fs.mkdirSync(path.join(seg, 'images'));
    fs.writeFileSync(path.join(seg, 'images', 'x.png'), encodePng({ width: 2, height: 2, channels: 3, bitDepth: 8, data: new Uint8Array(12) }));
    fs.mkdirSync(path.join(seg, 'labels'));
    fs.writeFileSync(path.join(seg, 'labels', 'x.png'), encodePng({ width: 2, height: 2, channels: 1, bitDepth: 8, data: new Uint8Array(4) }));
    await expect(customDepthDataset.open(seg, '')).rejects.toThrow('describes a segmentation task; depth needs "task": "depth"');
    fs.rmSync(seg, { recursive: true, force: true });
    expect(() => depthDataset('kitti')).toThrow("[depth] option 'dataset': expected one of nyudv2, custom");
  });

  it("a run's data on a custom folder: VNL's recipe at the run's crop, depth rescaled by window / crop", async () => {
    const data = await depthTask.openData({ ...defaultDepthConfig, dataset: 'custom', dataRoot: tmp, crop: 32, out: 'unused' });
    try {
      expect(data.info.recipe.cropSize).toBe(32);
      expect(data.info.recipe.windowSides).toEqual([32, 35, 37, 40, 43, 45, 48, 51, 53]);
      expect(data.notes!.join('\n')).toContain('assumed: NYU camera scaled to the image size');
      const raw = (await data.train.get(1)) as DepthSample;
      const s = data.transform.apply(raw, new Rng(3)) as DepthSample;
      expect([s.image.width, s.image.height, s.depth.width, s.depth.height]).toEqual([32, 32, 32, 32]);
      // Every valid depth is a source depth times a window side / 32.
      const sides = data.info.recipe.windowSides.map((w) => w / 32);
      const valid = Array.from(s.depth.data).filter((d) => d > 0);
      expect(valid.length).toBeGreaterThan(500);
      const factor = sides.find((f) => valid.every((d) => raw.depth.data.some((r) => Math.abs(r * f - d) < 1e-4)));
      expect(factor).toBeDefined();
    } finally {
      data.info.softTargets.dispose();
    }
  });
});
