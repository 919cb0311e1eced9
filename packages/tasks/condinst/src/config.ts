/**
 * Every option of a CondInst run, with defaults that work on the embedded coco-mini dataset. The
 * loop's options (schedule, cadence, perceptual loss, run folder) are the engine's; this file adds
 * the data, the network, the training canvas, the mask-head sampling and the teacher.
 */
import { PAPER_PERCEPTUAL, optionFailure, validateLoopConfig, type TrainCliConfig } from '@gpl/engine';
import { RESNET_NAMES, type ResNetName } from '@gpl/resnet';

export interface CondInstConfig extends TrainCliConfig {
  /** COCO-format dataset root (annotations/instances_<split>.json, <split>/ images). */
  readonly dataRoot: string;
  /** Encoder (ResNet-50 in the paper). */
  readonly backbone: ResNetName;
  /** Width multiplier of encoder, FPN, head and mask branch (1 = the published network). */
  readonly width: number;
  /**
   * Training canvas [height, width] (multiples of 32): every resized image is padded at the bottom
   * and right to it, as detectron2 pads a batch to its largest image. Empty: the recipe's (coco-mini
   * 192×256, COCO 1344×1344).
   */
  readonly canvas: readonly number[];
  /** Positive locations per batch drawn for the mask head (`MAX_PROPOSALS`). */
  readonly maxProposals: number;
  /** FCOS centre-sampling radius in strides (`POS_RADIUS`). */
  readonly radius: number;
  /**
   * Teacher checkpoint for the perceptual term's soft masks (a run folder, checkpoints/ folder or
   * step-* folder); '' uses the ground-truth masks at stride 4 as the target; 'auto' (CLI default)
   * the folder `condinst:train-teacher` writes for coco-mini, when it exists.
   */
  readonly teacher: string;
  /**
   * Encoder weights from a PyTorch file: torchvision's ResNet `.pth`, timm's `.safetensors`, or an
   * mmdet/mmseg checkpoint (its `state_dict`, `backbone.` keys); '' trains from scratch. The
   * network's input normalisation is torchvision's (ImageNet RGB mean/std), which those share.
   */
  readonly pretrained: string;
}

/**
 * A CPU-sized run on coco-mini: ResNet-50 at a quarter width, 2 images of 192×256 per step.
 * Paper recipe (§4.2.3, AdelaiDet 1x): lr 0.01, momentum 0.9, weight decay 1e-4, λ 0.1, 500
 * proposals, centre-sampling radius 1.5; the step schedule (÷10 at 60K/80K) is replaced by the
 * engine's poly decay, which plays the same role at a few hundred steps.
 */
export const defaultCondInstConfig: CondInstConfig = Object.freeze({
  dataRoot: 'datasets/coco-mini',
  backbone: 'resnet50',
  width: 0.25,
  canvas: Object.freeze([]) as readonly number[],
  maxProposals: 500,
  radius: 1.5,
  teacher: 'auto',
  pretrained: '',
  batch: 2,
  // 1.6 s per step without GPL, 2.4 s with GPL against the teacher (condinst:bench, wasm, 2 cores):
  // with the teacher's 400 steps the default pipeline takes about 20 minutes.
  iters: 200,
  lr: 0.01,
  polyPower: 0.9,
  momentum: 0.9,
  weightDecay: 1e-4,
  seed: 1,
  // The paper's loss network for masks is VGG16 with one input channel; [1,1,1,1,1] at CPU sizes.
  ...PAPER_PERCEPTUAL,
  evalEvery: 50,
  checkpointEvery: 50,
  resume: false,
  out: '',
  backend: 'auto',
});

/** Throws a RangeError/TypeError naming the option, what was expected and what was received. */
export function validateCondInstConfig(c: CondInstConfig): CondInstConfig {
  const fail = optionFailure('condinst');
  if (typeof c.dataRoot !== 'string' || !c.dataRoot) fail('dataRoot', 'a COCO-format dataset folder', c.dataRoot, TypeError);
  if (!RESNET_NAMES.includes(c.backbone)) fail('backbone', `one of ${RESNET_NAMES.join(', ')}`, c.backbone);
  if (!(typeof c.width === 'number' && c.width > 0 && c.width <= 4)) fail('width', 'a multiplier in (0, 4]', c.width);
  if (!Array.isArray(c.canvas) || (c.canvas.length !== 0 && (c.canvas.length !== 2 || !c.canvas.every((v) => Number.isInteger(v) && v > 0 && v % 32 === 0)))) {
    fail('canvas', 'height,width as positive multiples of 32 (e.g. 192,256), or empty for the recipe’s', c.canvas);
  }
  if (!(Number.isInteger(c.maxProposals) && c.maxProposals > 0)) fail('maxProposals', 'a positive integer', c.maxProposals);
  if (!(typeof c.radius === 'number' && c.radius >= 0 && Number.isFinite(c.radius))) fail('radius', 'a number ≥ 0 (0: no centre sampling)', c.radius);
  if (typeof c.teacher !== 'string') fail('teacher', "a checkpoint path or ''", c.teacher, TypeError);
  if (typeof c.pretrained !== 'string') fail('pretrained', "a .pth/.safetensors file or ''", c.pretrained, TypeError);
  validateLoopConfig(c, 'condinst');
  return c;
}
