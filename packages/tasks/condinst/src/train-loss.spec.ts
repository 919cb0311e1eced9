/**
 * The CondInst loss on a tiny network: its terms and total, gradients reaching every trainable
 * weight group, the proposal cap, an image without instances, the perceptual term against a
 * teacher, and no tensors left behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@gpl/core';
import type { Instance } from '@gpl/data';
import { GenericPerceptualLoss } from '@gpl/loss';
import { buildCondInst } from './model';
import { condInstLoss, drawWithoutReplacement } from './train-loss';

let model: tfl.LayersModel;
let teacher: tfl.LayersModel;
const H = 64;
const W = 96;

function square(x0: number, y0: number, size: number, classIndex: number): Instance {
  const mask = new Uint8Array(H * W);
  for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) mask[y * W + x] = 1;
  return { classIndex, categoryId: classIndex + 1, box: [x0, y0, x0 + size, y0 + size], mask, crowd: false };
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  model = buildCondInst({ numClasses: 3, backbone: 'resnet18', width: 0.125, seed: 1, towerConvs: 1, maskConvs: 1 });
  teacher = buildCondInst({ numClasses: 3, backbone: 'resnet18', width: 0.25, seed: 2, towerConvs: 1, maskConvs: 1 });
});

afterAll(() => {
  model.dispose();
  teacher.dispose();
});

const images = () => tf.randomNormal([2, H, W, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
const batchInstances = [[square(8, 8, 32, 0), square(50, 20, 24, 2)], [square(30, 10, 40, 1)]];

describe('condInstLoss', () => {
  it('sums focal, GIoU, centre-ness and dice terms, each finite and positive', () => {
    const x = images();
    const out = tf.tidy(() => {
      const r = condInstLoss(model, x, batchInstances, { numClasses: 3, maxProposals: 500, radius: 1.5 });
      return { total: r.total.dataSync()[0], terms: Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, v.dataSync()[0]])), positives: r.positives, drawn: r.drawn };
    });
    expect(Object.keys(out.terms)).toEqual(['loss_fcos_cls', 'loss_fcos_loc', 'loss_fcos_ctr', 'loss_mask']);
    for (const v of Object.values(out.terms)) expect(v).toBeGreaterThan(0);
    expect(out.total).toBeCloseTo(Object.values(out.terms).reduce((a, b) => a + b, 0), 4);
    // Three instances, each with a few positives on P3; every one feeds the mask head under the cap.
    expect(out.positives).toBeGreaterThanOrEqual(3);
    expect(out.drawn).toBe(out.positives);
    // Prior 0.01 on every class logit: the focal term starts near its analytic value per positive.
    expect(out.terms.loss_fcos_cls).toBeGreaterThan(0.1);
    x.dispose();
  });

  it('caps the mask head at maxProposals, and runs on a batch without instances', () => {
    const x = images();
    const capped = tf.tidy(() => condInstLoss(model, x, batchInstances, { numClasses: 3, maxProposals: 2, radius: 1.5 }).drawn);
    expect(capped).toBe(2);
    const empty = tf.tidy(() => {
      const r = condInstLoss(model, x, [[], []], { numClasses: 3, maxProposals: 500, radius: 1.5 });
      return { positives: r.positives, mask: r.terms.loss_mask.dataSync()[0], loc: r.terms.loss_fcos_loc.dataSync()[0], cls: r.terms.loss_fcos_cls.dataSync()[0] };
    });
    expect(empty).toMatchObject({ positives: 0, mask: 0, loc: 0 });
    expect(empty.cls).toBeGreaterThan(0);
    x.dispose();
  });

  it('has gradients for the encoder, FPN, both towers, the controller and the mask branch', () => {
    const x = images();
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const { grads } = tf.variableGrads(() => condInstLoss(model, x, batchInstances, { numClasses: 3, maxProposals: 500, radius: 1.5 }).total, vars);
    const norm = (prefix: string) =>
      Object.entries(grads)
        .filter(([name]) => name.startsWith(prefix))
        .reduce((s, [, g]) => s + tf.sum(tf.square(g)).dataSync()[0], 0);
    // (Not P7: at 64×96 it is 1×1, and GroupNorm with one channel per group maps a single value to
    // its bias, so no gradient reaches it — as in PyTorch.)
    for (const prefix of ['conv1', 'layer4', 'fpn_lateral3', 'top_block.p6', 'fcos_head.cls_tower', 'fcos_head.bbox_tower', 'fcos_head.scales', 'controller', 'mask_branch.refine.2', 'mask_branch.tower.out']) {
      expect({ prefix, nonzero: norm(prefix) > 0 }).toEqual({ prefix, nonzero: true });
    }
    tf.dispose([x, ...Object.values(grads)]);
  });

  it('adds λ·GPL of the mask probabilities against the teacher, and frees every tensor it makes', () => {
    const gpl = new GenericPerceptualLoss({ inChannels: 1, blocks: [1, 1, 1, 1, 1], seed: 3, engine: 'tfjs' });
    const x = images();
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      const r = condInstLoss(model, x, batchInstances, { numClasses: 3, maxProposals: 500, radius: 1.5, perceptual: { gpl, lambda: 0.1, teacher } });
      const t = Object.fromEntries(Object.entries(r.terms).map(([k, v]) => [k, v.dataSync()[0]]));
      return { total: r.total.dataSync()[0], t };
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(out.t.loss_gpl).toBeGreaterThan(0);
    const base = out.t.loss_fcos_cls + out.t.loss_fcos_loc + out.t.loss_fcos_ctr + out.t.loss_mask;
    expect(out.total).toBeCloseTo(base + 0.1 * out.t.loss_gpl, 4);
    gpl.dispose();
    x.dispose();
  });
});

describe('drawWithoutReplacement', () => {
  it('draws distinct entries, all of them when fewer than asked', () => {
    const d = drawWithoutReplacement([5, 6, 7, 8, 9], 3);
    expect(new Set(d).size).toBe(3);
    expect(d.every((v) => v >= 5 && v <= 9)).toBe(true);
    expect(drawWithoutReplacement([1, 2], 5).sort()).toEqual([1, 2]);
  });
});
