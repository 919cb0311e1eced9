/**
 * Gradient norms recorded in the one backward pass of `sgdStep` equal the norms of each term's
 * own gradient (computed apart with tf.grad), and a step with taps leaves no tensor behind.
 */
import { initBackend } from '@gpl/core';
import * as tf from '@tensorflow/tfjs-core';
import { GradientNormProbe } from './gradient-probe';
import { sgdStep, type LossTerms } from './sgd-step';

beforeAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('GradientNormProbe', () => {
  // A linear "model": logits = x·W, consumed by two terms, the second weighted by λ.
  const lambda = 0.3;
  const termA = (z: tf.Tensor) => tf.mean(tf.square(tf.sub(z, 1))) as tf.Scalar;
  const termB = (z: tf.Tensor) => tf.mean(tf.sigmoid(tf.mul(z, 2))) as tf.Scalar;

  it('records ‖∂term/∂logits‖ of each tapped term, λ included, without a second backward pass', () => {
    const w = tf.variable(tf.tensor2d([0.5, -0.2, 0.1, 0.3, 0.7, -0.4], [3, 2]), true, 'probe/kernel');
    const x = tf.tensor2d([1, 2, -1, 0.5, 0, 3, -2, 1, 1, 1, 1, -1], [4, 3]);
    const optimizer = tf.train.sgd(0.1);
    const loss = (): LossTerms => {
      const probe = new GradientNormProbe();
      const logits = tf.matMul(x, w);
      const a = termA(probe.tap('grad_a', logits));
      const b = termB(probe.tap('grad_b', logits));
      return { total: tf.add(a, tf.mul(b, lambda)), terms: { loss_a: a, loss_b: b }, gradientNorms: probe };
    };
    const expected = () =>
      tf.tidy(() => {
        const logits = tf.matMul(x, w);
        const norm = (g: tf.Tensor) => tf.sqrt(tf.sum(tf.square(g))).dataSync()[0];
        return { grad_a: norm(tf.grad(termA)(logits)), grad_b: norm(tf.grad((z: tf.Tensor) => tf.mul(termB(z), lambda))(logits)) };
      });
    let before = 0;
    for (let step = 0; step < 3; step++) {
      const want = expected();
      const out = sgdStep({ vars: [w], optimizer, weightDecay: 0 }, loss);
      expect(Object.keys(out.stats)).toEqual(['grad_a', 'grad_b']);
      expect(Math.abs(out.stats.grad_a - want.grad_a)).toBeLessThanOrEqual(1e-5 * want.grad_a);
      expect(Math.abs(out.stats.grad_b - want.grad_b)).toBeLessThanOrEqual(1e-5 * want.grad_b);
      // The first step creates the optimizer's learning-rate scalar; later steps must not grow.
      if (step === 1) before = tf.memory().numTensors;
      if (step === 2) expect(tf.memory().numTensors).toBe(before);
    }
    optimizer.dispose();
    tf.dispose([w, x]);
  });

  it('reports NaN for a tap no gradient reached, and no stats without taps', () => {
    const w = tf.variable(tf.scalar(2), true, 'w');
    const optimizer = tf.train.sgd(0.1);
    const out = sgdStep({ vars: [w], optimizer, weightDecay: 0 }, () => {
      const probe = new GradientNormProbe();
      probe.tap('grad_unused', tf.mul(w, 3));
      const total = tf.square(w) as tf.Scalar;
      return { total, terms: {}, gradientNorms: probe };
    });
    expect(out.stats).toEqual({ grad_unused: NaN });
    expect(sgdStep({ vars: [w], optimizer, weightDecay: 0 }, () => ({ total: tf.square(w) as tf.Scalar, terms: {} })).stats).toEqual({});
    optimizer.dispose();
    w.dispose();
  });

  it('refuses a name tapped twice in one step', () => {
    const probe = new GradientNormProbe();
    tf.tidy(() => {
      probe.tap('grad_ce', tf.ones([2]));
      expect(() => probe.tap('grad_ce', tf.ones([2]))).toThrow("[@gpl/engine] GradientNormProbe.tap: 'grad_ce' is already tapped in this step; give each tap its own name.");
    });
  });
});
