/**
 * Inference: candidate decoding on hand-built head outputs (threshold on cls·ctr, boxes from
 * distances × stride, top-k per level), class-wise NMS on hand cases, and a whole image through a
 * tiny network (shapes, clipping, the detection cap, no tensors left).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@gpl/core';
import { fcosLevels } from './fcos-targets';
import { boxIou, classwiseNms, decodeCandidates, predictInstances } from './inference';
import { HEAD_EXTRA, buildCondInst } from './model';

const logit = (p: number) => Math.log(p / (1 - p));

describe('decodeCandidates', () => {
  it('keeps cls·ctr > threshold, builds boxes from distances × stride, and caps each level at top-k', () => {
    const C = 2;
    const D = C + HEAD_EXTRA;
    const levels = fcosLevels(64, 64);
    const data = levels.map((l) => new Float32Array(l.height * l.width * D).fill(-20));
    // P3 cell (row 1, col 2) → location (2·8 + 4, 1·8 + 4) = (20, 12); class 1 at 0.8, ctr 0.5 → 0.4.
    const cell = (1 * 8 + 2) * D;
    data[0][cell + 1] = logit(0.8);
    data[0][cell + C + 4] = logit(0.5);
    data[0].set([1, 0.5, 2, 0.25], cell + C); // l, t, r, b in strides
    // P3 cell 0, class 0 at 0.3 × ctr 0.1 = 0.03 < 0.05: dropped.
    data[0][0] = logit(0.3);
    data[0][C + 4] = logit(0.1);
    // P4: three candidates 0.9·0.9, 0.6·0.9, 0.7·0.9 with top-k 2 → the first and the third.
    for (const [row, p] of [[0, 0.9], [1, 0.6], [2, 0.7]] as const) {
      data[1][row * D] = logit(p);
      data[1][row * D + C + 4] = logit(0.9);
    }
    const got = decodeCandidates(data, levels, C, 0.05, 2);
    expect(got.map((c) => [c.level, c.row, c.classIndex])).toEqual([[0, 10, 1], [1, 0, 0], [1, 2, 0]]);
    expect(got[0].score).toBeCloseTo(0.4, 5);
    expect(got[0].box.map((v) => Number(v.toFixed(4)))).toEqual([20 - 8, 12 - 4, 20 + 16, 12 + 2]);
    expect([got[1].x, got[1].y, got[2].x]).toEqual([8, 8, 40]);
    expect(() => decodeCandidates([new Float32Array(3)], levels.slice(0, 1), C, 0.05, 2)).toThrow('level P3: expected 8×8×176 values, received 3');
  });
});

describe('classwiseNms', () => {
  it('suppresses IoU > threshold within a class only, best first', () => {
    // a, b (class 0) overlap with IoU 80/100 = 0.8 → b dropped at 0.6, kept at 0.85; c is the same
    // box as a but class 1 → kept; d (class 0) lies elsewhere and scores best → first.
    const boxes = [[0, 0, 10, 10], [0, 0, 10, 8], [0, 0, 10, 10], [20, 20, 30, 30]];
    expect(boxIou(boxes[0], boxes[1])).toBeCloseTo(0.8, 6);
    expect(classwiseNms(boxes, [0.9, 0.8, 0.7, 0.95], [0, 0, 1, 0], 0.6)).toEqual([3, 0, 2]);
    expect(classwiseNms(boxes, [0.9, 0.8, 0.7, 0.95], [0, 0, 1, 0], 0.85)).toEqual([3, 0, 1, 2]);
    // IoU exactly at the threshold is kept (strictly greater suppresses).
    expect(classwiseNms([[0, 0, 10, 10], [0, 0, 10, 5]], [1, 0.5], [0, 0], 0.5)).toEqual([0, 1]);
  });
});

describe('predictInstances', () => {
  let model: tfl.LayersModel;
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
    model = buildCondInst({ numClasses: 3, backbone: 'resnet18', width: 0.125, seed: 1, towerConvs: 1, maskConvs: 1 });
  });
  afterAll(() => model.dispose());

  it('returns at most maxDetections, original-size masks and boxes clipped to the original image, freeing its tensors', async () => {
    const image = tf.randomNormal([1, 64, 96, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    // A threshold of 0 accepts every location: the cap and NMS decide.
    const dets = await predictInstances(model, image, { resized: [60, 90], original: [120, 180] }, { numClasses: 3, scoreThreshold: 0, maxDetections: 7 });
    expect(tf.memory().numTensors).toBe(before);
    expect(dets.length).toBe(7);
    for (const d of dets) {
      expect(d.mask.length).toBe(120 * 180);
      expect(d.box[0]).toBeGreaterThanOrEqual(0);
      expect(d.box[2]).toBeLessThanOrEqual(180);
      expect(d.box[3]).toBeLessThanOrEqual(120);
      expect(d.classIndex).toBeLessThan(3);
    }
    expect(dets.map((d) => d.score)).toEqual([...dets.map((d) => d.score)].sort((a, b) => b - a));
    const none = await predictInstances(model, image, { resized: [64, 96], original: [64, 96] }, { numClasses: 3, scoreThreshold: 0.999 });
    expect(none).toEqual([]);
    image.dispose();
  });
});
