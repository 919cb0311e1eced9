/**
 * The Backbone contract: feature maps keyed by stable names with a shape record giving each
 * one's channels and stride, so decoders wire themselves from reported shapes and never import
 * a particular encoder. Plus weight import by layer name and a parameter summary.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';

/** Feature keys: c1…c5 at strides 2…32 (a dilated encoder keeps its key and reports its real stride). */
export type FeatureKey = 'c1' | 'c2' | 'c3' | 'c4' | 'c5';

export interface FeatureSpec {
  /** Channels of the feature map. */
  readonly channels: number;
  /** Input pixels per feature pixel along each axis. */
  readonly stride: number;
}

export type FeatureSpecs = Partial<Record<FeatureKey, FeatureSpec>>;
export type FeatureMaps = Partial<Record<FeatureKey, tfl.SymbolicTensor>>;

/**
 * An encoder: applies its layers to a symbolic NHWC image and returns named feature maps.
 * `build` may be called once per model (its layers are created inside it).
 */
export interface Backbone {
  /** Registry name, e.g. 'resnet18-d8'. */
  readonly name: string;
  /** Channels and stride of each feature map `build` returns. */
  featureSpecs(): FeatureSpecs;
  /** Creates the encoder's layers on `input` [N, H, W, 3] and returns its feature maps. */
  build(input: tfl.SymbolicTensor): FeatureMaps;
  /** Input sizes must be multiples of this. */
  readonly sizeDivisor: number;
}

/** Throws, naming the nearest valid size, if an input size does not fit an encoder. */
export function checkInputSize(pkg: string, height: number, width: number, divisor: number): void {
  for (const [what, v] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v % divisor !== 0) {
      const ok = Math.max(divisor, Math.round(v / divisor) * divisor);
      throw new RangeError(`[${pkg}] input ${what} ${v} is not a positive multiple of ${divisor}; use ${ok}.`);
    }
  }
}

/** Parameter counts of a model. */
export interface ModelSummary {
  readonly trainable: number;
  readonly nonTrainable: number;
  readonly total: number;
  /** Parameters per top-level name prefix (the part before the first '.'), e.g. 'layer1', 'psp'. */
  readonly byPrefix: Readonly<Record<string, number>>;
}

export function summarizeModel(model: tfl.LayersModel): ModelSummary {
  const count = (ws: tfl.LayerVariable[]) => ws.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
  const byPrefix: Record<string, number> = {};
  for (const layer of model.layers) {
    const prefix = layer.name.split('.')[0];
    byPrefix[prefix] = (byPrefix[prefix] ?? 0) + count(layer.trainableWeights);
  }
  const trainable = count(model.trainableWeights);
  const nonTrainable = count(model.nonTrainableWeights);
  return { trainable, nonTrainable, total: trainable + nonTrainable, byPrefix };
}

export interface ImportReport {
  /** Weights copied, as `layer/weight`. */
  readonly loaded: readonly string[];
  /** Weights of the target that the source did not have (left as initialised). */
  readonly missing: readonly string[];
  /** Weights of the source that the target does not have. */
  readonly unused: readonly string[];
}

/** The name of a weight without tfjs's uniquifying suffix: 'layer1.0.conv1/kernel'. */
function weightKey(layerName: string, w: tfl.LayerVariable): string {
  const base = w.originalName.split('/').pop();
  return `${layerName}/${base}`;
}

/**
 * Copies weights from `source` into `target` by layer name and weight name (e.g. an
 * ImageNet-pretrained encoder converted to a TensorFlow.js layers model). Shapes must match
 * exactly; weights present in only one model are reported, not silently ignored.
 */
export function importWeightsByName(target: tfl.LayersModel, source: tfl.LayersModel, options: { strict?: boolean } = {}): ImportReport {
  const sourceWeights = new Map<string, tfl.LayerVariable>();
  for (const layer of source.layers) for (const w of layer.weights) sourceWeights.set(weightKey(layer.name, w), w);
  const loaded: string[] = [];
  const missing: string[] = [];
  const used = new Set<string>();
  const assignments: [tfl.LayerVariable, tf.Tensor][] = [];
  for (const layer of target.layers) {
    for (const w of layer.weights) {
      const key = weightKey(layer.name, w);
      const s = sourceWeights.get(key);
      if (!s) {
        missing.push(key);
        continue;
      }
      if (s.shape.join() !== w.shape.join()) {
        throw new RangeError(`[@gpl/core] importWeightsByName: '${key}' has shape [${s.shape}] in the source, [${w.shape}] in the model.`);
      }
      assignments.push([w, s.read()]);
      used.add(key);
      loaded.push(key);
    }
  }
  const unused = [...sourceWeights.keys()].filter((k) => !used.has(k));
  if (options.strict && (missing.length || unused.length)) {
    throw new RangeError(
      `[@gpl/core] importWeightsByName: ${missing.length} weights missing from the source (e.g. ${missing.slice(0, 3).join(', ')}), ` +
        `${unused.length} unused (e.g. ${unused.slice(0, 3).join(', ')}).`,
    );
  }
  for (const [w, t] of assignments) w.write(t);
  return { loaded, missing, unused };
}
