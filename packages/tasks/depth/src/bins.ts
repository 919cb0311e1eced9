/**
 * Depth as classification (Cao, Wu, Shen; VNL `lib/core/config.py`, `data/nyudv2_dataset.py`,
 * `lib/models/image_transfer.py`; REFERENCE.md §5): depth in VNL's working unit (metres / 10)
 * quantised uniformly in log10 over [min, max] into `count` bins, soft targets over neighbouring
 * bins, and the decoding d = 10^(Σᵢ pᵢ cᵢ) of bin probabilities.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Metres per VNL depth unit: VNL divides NYU depth in metres by 10 (`DATASET.DEPTH_SCALE`). */
export const VNL_DEPTH_UNIT = 10;

/** The bin layout. */
export interface DepthBinsConfig {
  /** Number of bins (VNL `DECODER_OUTPUT_C`: 150). */
  readonly count: number;
  /** Smallest depth in VNL units (NYU: 0.01, i.e. 0.1 m). */
  readonly min: number;
  /** Largest depth in VNL units (NYU: 1.7, i.e. 17 m, room for the ×s/crop rescaling). */
  readonly max: number;
  /** α of the soft targets exp(−α(i − g)²) (VNL: 0.2). */
  readonly alpha: number;
}

/** VNL's NYUDv2 layout: 150 bins over 0.1–17 m, α = 0.2. */
export const defaultDepthBinsConfig: DepthBinsConfig = Object.freeze({ count: 150, min: 0.01, max: 1.7, alpha: 0.2 });

/**
 * Bins uniform in log10: width Δ = (log10 max − log10 min) / count, centre cᵢ = log10 min + Δ(i + ½)
 * (for NYU: Δ = 0.0148697, cᵢ = −2 + Δ(i + ½)).
 */
export class DepthBins {
  readonly count: number;
  readonly logMin: number;
  readonly interval: number;
  /** Bin centres in log10 VNL units, [count]. */
  readonly centres: Float32Array;
  readonly config: DepthBinsConfig;

  constructor(config: Partial<DepthBinsConfig> = {}) {
    const c = { ...defaultDepthBinsConfig, ...config };
    if (!Number.isInteger(c.count) || c.count < 2) throw new RangeError(`[depth] DepthBins: count must be an integer ≥ 2, received ${c.count}.`);
    if (!(c.min > 0 && c.max > c.min && Number.isFinite(c.max))) throw new RangeError(`[depth] DepthBins: expected 0 < min < max, received min ${c.min}, max ${c.max}.`);
    if (!(c.alpha > 0)) throw new RangeError(`[depth] DepthBins: alpha must be > 0, received ${c.alpha}.`);
    this.config = Object.freeze(c);
    this.count = c.count;
    this.logMin = Math.log10(c.min);
    this.interval = (Math.log10(c.max) - this.logMin) / c.count;
    this.centres = Float32Array.from({ length: c.count }, (_, i) => this.logMin + this.interval * (i + 0.5));
  }

  /**
   * The bin of a valid depth (VNL units, > 0): floor((log10 clamp(d) − log10 min) / Δ), the top
   * edge (bin `count`) folded into the last bin as VNL does.
   */
  binOf(depth: number): number {
    const d = Math.min(this.config.max, Math.max(this.config.min, depth));
    const b = Math.floor((Math.log10(d) - this.logMin) / this.interval);
    return Math.min(this.count - 1, Math.max(0, b));
  }

  /** The depth of a bin's centre, VNL units. */
  centreDepth(bin: number): number {
    return 10 ** this.centres[bin];
  }

  /**
   * Soft-target matrix W [count × count], row g = exp(−α(i − g)²) over i, normalised to sum 1
   * (VNL's `WCE_LOSS_WEIGHT` divided by its row sums).
   */
  softTargets(): Float32Array {
    const n = this.count;
    const w = new Float32Array(n * n);
    for (let g = 0; g < n; g++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Math.exp(-this.config.alpha * (i - g) ** 2);
      for (let i = 0; i < n; i++) w[g * n + i] = Math.exp(-this.config.alpha * (i - g) ** 2) / sum;
    }
    return w;
  }

  /**
   * Bin indices of a depth map (VNL units) as int32 [N, H, W] plus its validity: pixels with
   * depth ≤ 0 (no measurement, padding) get bin 0 and valid 0. Built on the host (the target has
   * no gradient).
   */
  binsOf(depth: tf.Tensor4D): { bins: tf.Tensor3D; valid: tf.Tensor3D } {
    const [n, h, w] = depth.shape;
    const d = depth.dataSync();
    const bins = new Int32Array(d.length);
    const valid = new Float32Array(d.length);
    for (let i = 0; i < d.length; i++) {
      if (d[i] > 0) {
        bins[i] = this.binOf(d[i]);
        valid[i] = 1;
      }
    }
    return { bins: tf.tensor3d(bins, [n, h, w], 'int32'), valid: tf.tensor3d(valid, [n, h, w]) };
  }

  /**
   * Depth (VNL units) from bin probabilities: 10^(Σᵢ pᵢ cᵢ).
   * @param probs [N, H, W, count] softmax of the logits → [N, H, W, 1].
   */
  decode(probs: tf.Tensor4D): tf.Tensor4D {
    if (probs.rank !== 4 || probs.shape[3] !== this.count) {
      throw new RangeError(`[depth] DepthBins.decode: expected probabilities [N, H, W, ${this.count}], received [${probs.shape.join(', ')}].`);
    }
    return tf.tidy(() => {
      const logDepth = tf.sum(tf.mul(probs, tf.tensor1d(this.centres)), 3, true);
      // 10^x as exp(x·ln 10): one elementwise op with a simple gradient.
      return tf.exp(tf.mul(logDepth, Math.LN10)) as tf.Tensor4D;
    });
  }
}
