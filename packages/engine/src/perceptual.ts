/**
 * The perceptual-loss option of every task, typed once: which frozen network, λ, kernel size,
 * initialisation and levels — or none. Values are parsed by `@gpl/loss`'s own parsers, so the
 * list of presets and init schemes lives only there. The network is built with the task's input
 * channels (classes for segmentation, 1 for depth and instance masks).
 */
import { readWeightFile } from '@gpl/weights';
import { GenericPerceptualLoss, LOSS_REDUCTIONS, PRETRAINED_PRESETS, formatEngineReport, minimumInputSizeOf, parseInitSpec, parseNetworkSpec, type InitScheme, type LossEngine, type LossLevels, type LossReduction } from '@gpl/loss';

export const PERCEP_LEVELS = ['final', 'all', 'weighted'] as const;
export type PercepLevels = (typeof PERCEP_LEVELS)[number];
export const PERCEP_KERNELS: readonly number[] = Object.freeze([1, 3, 5, 7]);
export const PERCEP_ENGINES: readonly LossEngine[] = Object.freeze(['auto', 'tfjs', 'onnxruntime'] as LossEngine[]);
export const PERCEP_REDUCTIONS: readonly LossReduction[] = LOSS_REDUCTIONS;

/** The flat form in configs and flags (`--percep`, `--percep-lambda`, …). */
export interface PerceptualFlags {
  /** 'none', a preset ('vgg16', 'resnet18', …) or convolutions per block ('1,1,1,1,1'). */
  readonly percep: string;
  /** λ of Eq. 2 (paper: 0.1). */
  readonly percepLambda: number;
  /** Kernel size of the loss network (1, 3, 5, 7). */
  readonly percepKernel: number;
  /** 'he' (paper), 'xavier', 'normal:σ', 'uniform:a'. */
  readonly percepInit: string;
  /** Final layer, every block equally, or the paper's 1/16…1 weights. */
  readonly percepLevels: PercepLevels;
  /**
   * Each level's reduction: 'mean' over the embedding (Eq. 1, the default) or 'sum' over each
   * sample's C·H·W, batch-averaged (Eq. 3). Absent (a config.json written before the option): 'mean'.
   */
  readonly percepReduction?: LossReduction;
  /** What runs the loss network: onnxruntime when it loads ('auto'), or one of them by name. Not part of a run's identity. */
  readonly percepEngine?: LossEngine;
  /**
   * torchvision ImageNet weights for the loss network (paper Table 1's 'T' rows): a .pth or
   * .safetensors file of the preset named by `percep`; '' or absent: random weights.
   */
  readonly percepPretrained?: string;
}

/**
 * The paper's perceptual-loss settings, as every task's defaults spread them: Table 2's
 * [1,1,1,1,1] (70.88 vs VGG16's 70.68 mIoU, at about a third of VGG16's CPU cost), λ 0.1 (all
 * experiments), 3×3 kernels, the He-style N(0, √(2/n_l)) initialisation, final-layer loss only, on
 * onnxruntime when it loads.
 */
export const PAPER_PERCEPTUAL: Required<PerceptualFlags> = Object.freeze({
  percep: '1,1,1,1,1',
  percepLambda: 0.1,
  percepKernel: 3,
  percepInit: 'he',
  percepLevels: 'final',
  percepReduction: 'mean',
  percepEngine: 'auto',
  percepPretrained: '',
});

/** The typed option: a network and its weight in the objective, or null for no perceptual term. */
export type PerceptualOption = {
  readonly network: { preset: string } | { blocks: number[] };
  readonly lambda: number;
  readonly kernelSize: number;
  readonly init: InitScheme;
  readonly levels: LossLevels;
  readonly reduction: LossReduction;
  readonly engine: LossEngine;
  /** torchvision weights file, when the network is pretrained. */
  readonly pretrained?: string;
} | null;

/**
 * Parses and checks the flat flags. Throws a RangeError naming the option (as `task`'s message)
 * with what was received and what is expected.
 */
export function perceptualOption(f: PerceptualFlags, task: string): PerceptualOption {
  const fail = (option: string, why: string): never => {
    throw new RangeError(`[${task}] option '${option}': ${why}`);
  };
  const lambdaOk = typeof f.percepLambda === 'number' && Number.isFinite(f.percepLambda) && f.percepLambda >= 0;
  if (!lambdaOk) fail('percepLambda', `expected a finite number ≥ 0, received ${String(f.percepLambda)}.`);
  if (!PERCEP_KERNELS.includes(f.percepKernel)) fail('percepKernel', `expected one of ${PERCEP_KERNELS.join(', ')}, received ${JSON.stringify(f.percepKernel)}.`);
  if (f.percepEngine !== undefined && !PERCEP_ENGINES.includes(f.percepEngine)) fail('percepEngine', `expected one of ${PERCEP_ENGINES.join(', ')}, received ${JSON.stringify(f.percepEngine)}.`);
  if (f.percepReduction !== undefined && !PERCEP_REDUCTIONS.includes(f.percepReduction)) {
    fail('percepReduction', `expected ${PERCEP_REDUCTIONS.map((r) => `'${r}'`).join(' or ')} (Eq. 1 mean, Eq. 3 per-sample sum), received ${JSON.stringify(f.percepReduction)}.`);
  }
  if (!(PERCEP_LEVELS as readonly string[]).includes(f.percepLevels)) fail('percepLevels', `expected one of ${PERCEP_LEVELS.join(', ')}, received ${JSON.stringify(f.percepLevels)}.`);
  const strip = (e: unknown) => (e as Error).message.replace(/^\[@gpl\/loss\] \w+: /, '');
  let init: InitScheme;
  try {
    init = parseInitSpec(String(f.percepInit));
  } catch (e) {
    return fail('percepInit', strip(e));
  }
  if (typeof f.percep !== 'string') fail('percep', `expected 'none', a preset or convolutions per block, received ${JSON.stringify(f.percep)}.`);
  if (f.percep === 'none' || f.percepLambda === 0) return null;
  let network: { preset: string } | { blocks: number[] };
  try {
    network = parseNetworkSpec(f.percep);
  } catch (e) {
    return fail('percep', `${strip(e)} Or 'none' for no perceptual term.`);
  }
  const pretrained = f.percepPretrained ?? '';
  if (typeof pretrained !== 'string') fail('percepPretrained', `expected a .pth/.safetensors file or '', received ${JSON.stringify(pretrained)}.`);
  if (pretrained) {
    if (!('preset' in network) || !PRETRAINED_PRESETS.includes(network.preset as never)) {
      fail('percepPretrained', `torchvision weights exist for ${PRETRAINED_PRESETS.join(', ')}; --percep is '${f.percep}'.`);
    }
    if (f.percepKernel !== 3) fail('percepKernel', `a pretrained network keeps torchvision's kernels; expected 3, received ${f.percepKernel}.`);
  }
  return { network, lambda: f.percepLambda, kernelSize: f.percepKernel, init, levels: f.percepLevels, reduction: f.percepReduction ?? 'mean', engine: f.percepEngine ?? 'auto', ...(pretrained ? { pretrained } : {}) };
}

/** Builds the frozen loss network of an option for inputs of `inChannels`; undefined for none. */
export function createPerceptualLoss(option: PerceptualOption, inChannels: number, seed: number): GenericPerceptualLoss | undefined {
  if (!option) return undefined;
  return new GenericPerceptualLoss({
    inChannels,
    ...(option.network as { preset: never } | { blocks: number[] }),
    kernelSize: option.kernelSize,
    init: option.init,
    levels: option.levels,
    reduction: option.reduction,
    engine: option.engine,
    seed,
    ...(option.pretrained ? { pretrained: readWeightFile(option.pretrained).tensors } : {}),
  } as ConstructorParameters<typeof GenericPerceptualLoss>[0]);
}

/**
 * The smallest input side (height and width) the option's loss network accepts, from its
 * structure alone (no kernels are drawn): what a task checks a resized perceptual input against.
 */
export function perceptualMinimumSize(option: NonNullable<PerceptualOption>): number {
  return minimumInputSizeOf({ inChannels: 1, ...(option.network as { preset: never } | { blocks: number[] }), kernelSize: option.kernelSize });
}

/** One line saying which engine runs a loss network and why (for the run's log). */
export function describePerceptualEngine(gpl: GenericPerceptualLoss): string {
  return formatEngineReport(gpl.engineReport());
}

/** 'vgg16, λ 0.1' (', sum' added under reduction 'sum') or 'none', for logs and tables. */
export function describePerceptual(option: PerceptualOption): string {
  if (!option) return 'none';
  const net = 'preset' in option.network ? option.network.preset : option.network.blocks.join(',');
  return `${net}${option.pretrained ? ' (torchvision weights)' : ''}, λ ${option.lambda}${option.reduction === 'sum' ? ', sum' : ''}`;
}
