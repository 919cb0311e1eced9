/**
 * The depth network of the paper's depth experiments (Sec. 4.2.2: "plain ResNet-50"), with VNL's
 * lateral decoder (`lib/models/lateral_net.py`) producing bin logits at input resolution:
 *
 *   encoder   ResNet-50 at output stride 16 (VNL's `*_body_stride16`), width multiplier `width`;
 *   top       ASPP on c5: 1×1 and three 3×3 convs dilated 2, 4, 6, each + BN, and a global-pool
 *             branch (1×1 + BN, broadcast back), concatenated, 1×1 + BN to 512·w channels;
 *   laterals  FTB(c5 → 512·w), FTB(c4 → 256·w), FTB(c3 → 256·w), FTB(c2 → 256·w);
 *   top-down  four AFA + FTB stages (the coarser map resized to the lateral's size, AFA's channel
 *             attention σ(1×1(ReLU(1×1(GAP([lateral, top]))))) · lateral + top, then FTB);
 *   last      resize to stride 2, FTB, resize to the input, 3×3 conv (dilation 2, bias) → bins.
 *
 * FTB is VNL's residual block: 1×1 conv, then 3×3 (dilation 2, bias) + BN + ReLU, 3×3 (dilation
 * 2) added to the 1×1 output, ReLU. Decoder widths are VNL's (512, 256, …) times `width`; BN
 * momentum 0.5 as VNL's decoder (PyTorch 0.5 is Keras 0.5); Xavier-normal decoder kernels.
 * Resizes are bilinear with align_corners = true, as VNL's.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { layerSeed, resizeToReference, scaleWidth, type FeatureKey } from '@gpl/core';
import { createResNet, type OutputStride } from '@gpl/resnet';

type ST = tfl.SymbolicTensor;

/** Options of the depth network. */
export interface DepthModelOptions {
  /** Output channels: the number of depth bins (150). */
  readonly bins: number;
  /** Width multiplier of encoder and decoder (1 = ResNet-50 with VNL's decoder widths). */
  readonly width: number;
  /** Encoder output stride (VNL: 16). */
  readonly outputStride: OutputStride;
  /** Seed of the weight initialisation (encoder and decoder get seeds derived from it). */
  readonly seed: number;
}

const BN_MOMENTUM = 0.5;

class Decoder {
  constructor(
    private readonly seed: number,
    private readonly width: number,
  ) {}

  ch(c: number): number {
    return scaleWidth(c, this.width);
  }

  conv(x: ST, name: string, filters: number, kernelSize: number, o: { dilation?: number; bias?: boolean } = {}): ST {
    return tfl.layers
      .conv2d({
        name,
        filters,
        kernelSize,
        padding: 'same',
        dilationRate: o.dilation ?? 1,
        useBias: o.bias ?? false,
        kernelInitializer: tfl.initializers.glorotNormal({ seed: layerSeed(this.seed, name) }),
        biasInitializer: 'zeros',
      })
      .apply(x) as ST;
  }

  bn(x: ST, name: string): ST {
    return tfl.layers.batchNormalization({ name, momentum: BN_MOMENTUM, epsilon: 1e-5 }).apply(x) as ST;
  }

  relu(x: ST, name: string): ST {
    return tfl.layers.reLU({ name }).apply(x) as ST;
  }

  /** VNL's feature transfer block. */
  ftb(x: ST, name: string, filters: number): ST {
    const residual = this.conv(x, `${name}.conv1`, filters, 1);
    let y = this.conv(residual, `${name}.conv2`, filters, 3, { dilation: 2, bias: true });
    y = this.relu(this.bn(y, `${name}.bn1`), `${name}.relu1`);
    y = this.conv(y, `${name}.conv3`, filters, 3, { dilation: 2 });
    const sum = tfl.layers.add({ name: `${name}.add` }).apply([y, residual]) as ST;
    return this.relu(sum, `${name}.relu`);
  }

  /** A global-average-pooled map as [N, 1, 1, C]. */
  gap(x: ST, name: string): ST {
    const pooled = tfl.layers.globalAveragePooling2d({ name: `${name}.gap` }).apply(x) as ST;
    return tfl.layers.reshape({ name: `${name}.gap_reshape`, targetShape: [1, 1, pooled.shape[1] as number] }).apply(pooled) as ST;
  }

  /** VNL's adaptive feature aggregation: channel attention on the lateral, plus the top-down map. */
  afa(lateral: ST, top: ST, name: string, dim: number): ST {
    const cat = tfl.layers.concatenate({ name: `${name}.cat`, axis: -1 }).apply([lateral, top]) as ST;
    let w = this.gap(cat, name);
    w = this.relu(this.conv(w, `${name}.conv1`, Math.max(1, Math.floor(dim / 8)), 1), `${name}.relu`);
    w = this.conv(w, `${name}.conv2`, dim, 1);
    w = tfl.layers.activation({ name: `${name}.sigmoid`, activation: 'sigmoid' }).apply(w) as ST;
    const weighted = tfl.layers.multiply({ name: `${name}.mul` }).apply([lateral, w]) as ST;
    return tfl.layers.add({ name: `${name}.add` }).apply([weighted, top]) as ST;
  }

  /** VNL's ASPP top on c5 (no ReLU after its BNs, as in VNL). */
  aspp(x: ST, name: string, dim: number, rates: readonly number[]): ST {
    const branches = [this.bn(this.conv(x, `${name}.conv1x1`, dim, 1), `${name}.bn1x1`)];
    rates.forEach((r, i) => branches.push(this.bn(this.conv(x, `${name}.conv3_${i + 1}`, dim, 3, { dilation: r }), `${name}.bn3_${i + 1}`)));
    let g = this.gap(x, `${name}.global`);
    g = this.bn(this.conv(g, `${name}.global.conv1x1`, dim, 1), `${name}.global.bn`);
    branches.push(resizeToReference(g, branches[0], `${name}.global.resize`));
    return tfl.layers.concatenate({ name: `${name}.cat`, axis: -1 }).apply(branches) as ST;
  }
}

/**
 * Builds the network: image [N, H, W, 3] (H, W multiples of 32) → logits [N, H, W, bins].
 * Layer names: the encoder's PyTorch paths (`layer1.0.conv1`, …), decoder `aspp.*`, `lateral<k>.*`,
 * `topdown<k>.*`, `last.*`, `predict`.
 */
export function buildDepthModel(o: DepthModelOptions): tfl.LayersModel {
  const encoder = createResNet('resnet50', { outputStride: o.outputStride, widthMultiplier: o.width, seed: o.seed * 2 + 1 });
  const d = new Decoder(o.seed * 2 + 2, o.width);
  const input = tfl.input({ shape: [null, null, 3], name: 'image' });
  const maps = encoder.build(input);
  const feature = (k: FeatureKey) => maps[k] as ST;
  // VNL: dilation rates 2, 4, 6 at encoder stride 16 (4, 8, 12 at stride 8).
  const rates = o.outputStride === 8 ? [4, 8, 12] : [2, 4, 6];
  const top = d.bn(d.conv(d.aspp(feature('c5'), 'aspp', d.ch(512), rates), 'top.conv', d.ch(512), 1), 'top.bn');
  const laterals = [
    d.ftb(feature('c5'), 'lateral1', d.ch(512)),
    d.ftb(feature('c4'), 'lateral2', d.ch(256)),
    d.ftb(feature('c3'), 'lateral3', d.ch(256)),
    d.ftb(feature('c2'), 'lateral4', d.ch(256)),
  ];
  const dims = [d.ch(512), d.ch(256), d.ch(256), d.ch(256)];
  let x = top;
  laterals.forEach((lat, i) => {
    const resized = lat.shape[1] === x.shape[1] && lat.shape[1] != null ? x : resizeToReference(x, lat, `topdown${i + 1}.resize`);
    x = d.ftb(d.afa(lat, resized, `topdown${i + 1}.afa`, dims[i]), `topdown${i + 1}.ftb`, d.ch(256));
  });
  x = resizeToReference(x, feature('c1'), 'last.resize1');
  x = d.ftb(x, 'last.ftb', d.ch(256));
  x = resizeToReference(x, input, 'last.resize2');
  const logits = d.conv(x, 'predict', o.bins, 3, { dilation: 2, bias: true });
  return tfl.model({ inputs: input, outputs: logits, name: `depth-resnet50-w${o.width}` });
}
