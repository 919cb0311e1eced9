/**
 * tools:data-bench (also `nx run data:bench`) — decode + augment throughput per dataset at its
 * default crop, beside the training step rate it has to feed. Prints a table and writes
 * bench-results/data.json. It lives in tools/ because it opens every dataset package, which
 * @gpl/data itself must not depend on.
 *
 * Two variants per segmentation dataset:
 *   mini       the embedded mini dataset with its mini augmentation (what the default runs use);
 *   full-size  the mini images upscaled to the real datasets' sizes (Cityscapes 2048×1024 PNG,
 *              VOC 500×375 JPEG, ADE20K 683×512 JPEG) with the papers' crops (769 / 512 / 512),
 *              so decoding costs what it costs on the real data.
 * NYUDv2 and COCO minis are included when their loaders open.
 *
 * The per-dataset "training step" is a stand-in (tasks cannot be imported here): a small conv net (four
 * 3×3 convs, 32–64 channels, strides 2-2-1, 1×1 classifier, ×4 bilinear upsampling, softmax
 * cross-entropy) trained with SGD on a batch of the same crop, on the backend @gpl/core picks.
 * When bench-results/seg.json exists (`npx nx run seg:bench`), the real segmentation steps' sample
 * rates are printed and saved beside it.
 *
 * Flags: --samples N (per dataset, default 64), --batch N (mini, default 8), --full-batch N (default 2),
 * --no-full (skip the full-size variants), --steps N (timed training steps, default 3).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend } from '@gpl/core';
import { DataLoader, compose, normalize, decodePng, encodePng, IMAGENET_MEAN, IMAGENET_STD, randomCrop, randomFlip, randomScale, trainTransform, vocColormap, type AugmentConfig, type Dataset, type Sample, type Transform } from '@gpl/data';
import { openCityscapes, cityscapesAugment, cityscapesMiniAugment } from '@gpl/cityscapes';
import { openVoc, vocAugment, vocMiniAugment } from '@gpl/voc';
import { openAde20k, ade20kAugment, ade20kMiniAugment } from '@gpl/ade20k';
import { openNyuDepthV2 } from '@gpl/nyudv2';
import { openCoco } from '@gpl/coco';
import { BENCH_RESULTS_DIR, DATASETS_DIR, WORKSPACE_ROOT } from '../paths';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const SAMPLES = Number(flag('samples', '64'));
const MINI_BATCH = Number(flag('batch', '8'));
const FULL_BATCH = Number(flag('full-batch', '2'));
const STEPS = Number(flag('steps', '3'));
const FULL = !process.argv.includes('--no-full');

interface Row {
  dataset: string;
  variant: 'mini' | 'full-size';
  imageSize: string;
  crop: string;
  batch: number;
  samples: number;
  decodeSamplesPerSec: number;
  decodeAugmentSamplesPerSec: number;
  trainStepSamplesPerSec: number;
  /** How many times faster the loader produces samples than the step consumes them. */
  headroom: number;
}

/** Samples per second of one pass over `n` samples (host batches: decode, augment, collate, no tensors). */
async function loaderRate(ds: Dataset<Sample>, transform: Transform | undefined, batch: number, n: number): Promise<number> {
  const loader = new DataLoader(ds, { batchSize: batch, seed: 1, concurrency: 4, prefetch: 2, ...(transform ? { transform } : {}) });
  let done = 0;
  let epoch = 0;
  const t0 = performance.now();
  while (done < n) {
    for await (const h of loader.hostBatches(epoch)) {
      done += h.ids.length;
      if (done >= n) break;
    }
    epoch++;
  }
  return done / ((performance.now() - t0) / 1000);
}

/** The stand-in training step (see the module comment): samples per second at `batch`×h×w. */
function trainStepRate(batch: number, h: number, w: number, classes: number): number {
  const rng = (i: number): number => ((Math.imul(i + 1, 2654435761) >>> 0) / 4294967296 - 0.5) * 0.2;
  const weight = (shape: number[]): tf.Variable => {
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.variable(tf.tensor(Float32Array.from({ length: n }, (_, i) => rng(i + n)), shape));
  };
  const ws = [weight([3, 3, 3, 32]), weight([3, 3, 32, 64]), weight([3, 3, 64, 64]), weight([3, 3, 64, 64]), weight([1, 1, 64, classes])];
  const x = tf.randomUniform([batch, h, w, 3]) as tf.Tensor4D;
  const y = tf.oneHot(tf.randomUniform([batch * h * w], 0, classes, 'int32') as tf.Tensor1D, classes);
  const opt = tf.train.sgd(0.01);
  const step = (): void => {
    const cost = opt.minimize(() => {
      let a = tf.relu(tf.conv2d(x, ws[0] as tf.Tensor4D, 2, 'same'));
      a = tf.relu(tf.conv2d(a, ws[1] as tf.Tensor4D, 2, 'same'));
      a = tf.relu(tf.conv2d(a, ws[2] as tf.Tensor4D, 1, 'same'));
      a = tf.relu(tf.conv2d(a, ws[3] as tf.Tensor4D, 1, 'same'));
      const logits = tf.image.resizeBilinear(tf.conv2d(a, ws[4] as tf.Tensor4D, 1, 'same'), [h, w]);
      return tf.losses.softmaxCrossEntropy(y, tf.reshape(logits, [-1, classes])) as tf.Scalar;
    }, true);
    cost?.dataSync();
    cost?.dispose();
  };
  step(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) step();
  const rate = (batch * STEPS) / ((performance.now() - t0) / 1000);
  tf.dispose([...ws, x, y]);
  opt.dispose();
  return rate;
}

/** Nearest-neighbour upscale of a single-channel map. */
function upscaleNearest(src: Uint8Array, w: number, h: number, W: number, H: number): Uint8Array {
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = src[Math.floor((y * h) / H) * w + Math.floor((x * w) / W)];
  return out;
}

async function upscaleImage(file: string, W: number, H: number, format: 'png' | 'jpeg'): Promise<Buffer> {
  const s = sharp(file).resize(W, H, { fit: 'fill', kernel: 'lanczos3' });
  return format === 'png' ? s.png({ compressionLevel: 6 }).toBuffer() : s.jpeg({ quality: 90 }).toBuffer();
}

/** Full-size copies (a few images each) of the three segmentation minis in `tmp`. */
async function buildFullSize(tmp: string, perSet: number): Promise<{ cityscapes: string; voc: string; ade: string }> {
  const cs = path.join(tmp, 'cityscapes');
  const csTrain = await openCityscapes({ root: path.join(DATASETS_DIR, 'cityscapes-mini') });
  for (const e of csTrain.entries.slice(0, perSet)) {
    const dir = (t: string): string => path.join(cs, t, 'train', e.city);
    fs.mkdirSync(dir('leftImg8bit'), { recursive: true });
    fs.mkdirSync(dir('gtFine'), { recursive: true });
    fs.writeFileSync(path.join(dir('leftImg8bit'), `${e.id}_leftImg8bit.png`), await upscaleImage(e.image, 2048, 1024, 'png'));
    const lab = decodePng(fs.readFileSync(e.label));
    fs.writeFileSync(path.join(dir('gtFine'), `${e.id}_gtFine_labelIds.png`), encodePng({ width: 2048, height: 1024, channels: 1, bitDepth: 8, data: upscaleNearest(lab.data as Uint8Array, lab.width, lab.height, 2048, 1024) }));
  }
  const voc = path.join(tmp, 'VOCdevkit', 'VOC2012');
  const vocTrain = await openVoc({ root: path.join(DATASETS_DIR, 'voc-mini') });
  for (const d of ['JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation']) fs.mkdirSync(path.join(voc, d), { recursive: true });
  const ids: string[] = [];
  for (const e of vocTrain.entries.slice(0, perSet)) {
    const lab = decodePng(fs.readFileSync(e.label));
    const [W, H] = lab.width >= lab.height ? [500, 375] : [375, 500];
    fs.writeFileSync(path.join(voc, 'JPEGImages', `${e.id}.jpg`), await upscaleImage(e.image, W, H, 'jpeg'));
    fs.writeFileSync(path.join(voc, 'SegmentationClass', `${e.id}.png`), encodePng({ width: W, height: H, channels: 1, bitDepth: 8, data: upscaleNearest(lab.data as Uint8Array, lab.width, lab.height, W, H), palette: vocColormap() }));
    ids.push(e.id);
  }
  fs.writeFileSync(path.join(voc, 'ImageSets/Segmentation/train.txt'), ids.join('\n') + '\n');
  const ade = path.join(tmp, 'ADEChallengeData2016');
  const adeTrain = await openAde20k({ root: path.join(DATASETS_DIR, 'ade20k-mini') });
  fs.mkdirSync(path.join(ade, 'images/training'), { recursive: true });
  fs.mkdirSync(path.join(ade, 'annotations/training'), { recursive: true });
  for (const e of adeTrain.entries.slice(0, perSet)) {
    const lab = decodePng(fs.readFileSync(e.label));
    const [W, H] = lab.width >= lab.height ? [683, 512] : [512, 683];
    fs.writeFileSync(path.join(ade, 'images/training', `${e.id}.jpg`), await upscaleImage(e.image, W, H, 'jpeg'));
    fs.writeFileSync(path.join(ade, 'annotations/training', `${e.id}.png`), encodePng({ width: W, height: H, channels: 1, bitDepth: 8, data: upscaleNearest(lab.data as Uint8Array, lab.width, lab.height, W, H) }));
  }
  return { cityscapes: cs, voc: tmp, ade: tmp };
}

interface Case {
  dataset: string;
  variant: 'mini' | 'full-size';
  open: () => Promise<Dataset<Sample>>;
  augment: AugmentConfig | { crop: readonly [number, number]; transform: Transform };
  batch: number;
  classes: number;
}

function transformOf(c: Case, ignore: number): Transform {
  return 'transform' in c.augment ? c.augment.transform : trainTransform(c.augment, ignore);
}

/** normalize → random scale → square random crop → flip: NYUDv2 and COCO, which have no seg recipe. */
function plainAugment(side: number, ratioRange: readonly [number, number]): { crop: readonly [number, number]; transform: Transform } {
  return { crop: [side, side], transform: compose([normalize({ mean: IMAGENET_MEAN, std: IMAGENET_STD }), randomScale({ ratioRange }), randomCrop({ height: side, width: side }), randomFlip()]) };
}

async function main(): Promise<void> {
  const report = await initBackend({});
  console.log(`backend: ${formatBackendReport(report)}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-data-bench-'));
  const cases: Case[] = [
    { dataset: 'cityscapes', variant: 'mini', open: () => openCityscapes({ root: path.join(DATASETS_DIR, 'cityscapes-mini') }), augment: cityscapesMiniAugment, batch: MINI_BATCH, classes: 19 },
    { dataset: 'voc', variant: 'mini', open: () => openVoc({ root: path.join(DATASETS_DIR, 'voc-mini'), aug: true }), augment: vocMiniAugment, batch: MINI_BATCH, classes: 21 },
    { dataset: 'ade20k', variant: 'mini', open: () => openAde20k({ root: path.join(DATASETS_DIR, 'ade20k-mini') }), augment: ade20kMiniAugment, batch: MINI_BATCH, classes: 150 },
    { dataset: 'nyudv2', variant: 'mini', open: () => openNyuDepthV2({ root: path.join(DATASETS_DIR, 'nyudv2-mini') }), augment: plainAugment(112, [1, 1.5]), batch: MINI_BATCH, classes: 150 },
    { dataset: 'coco', variant: 'mini', open: () => openCoco({ root: path.join(DATASETS_DIR, 'coco-mini') }), augment: plainAugment(192, [0.8, 1.25]), batch: MINI_BATCH, classes: 80 },
  ];
  if (FULL) {
    const full = await buildFullSize(tmp, 8);
    cases.push(
      { dataset: 'cityscapes', variant: 'full-size', open: () => openCityscapes({ root: full.cityscapes }), augment: cityscapesAugment, batch: FULL_BATCH, classes: 19 },
      { dataset: 'voc', variant: 'full-size', open: () => openVoc({ root: full.voc }), augment: vocAugment, batch: FULL_BATCH, classes: 21 },
      { dataset: 'ade20k', variant: 'full-size', open: () => openAde20k({ root: full.ade }), augment: ade20kAugment, batch: FULL_BATCH, classes: 150 },
    );
  }
  const rows: Row[] = [];
  const skipped: { dataset: string; reason: string }[] = [];
  try {
    for (const c of cases) {
      let ds: Dataset<Sample>;
      try {
        ds = await c.open();
      } catch (e) {
        skipped.push({ dataset: `${c.dataset} (${c.variant})`, reason: (e as Error).message });
        console.log(`skip ${c.dataset} ${c.variant}: ${(e as Error).message}`);
        continue;
      }
      const first = await ds.get(0);
      const n = Math.min(SAMPLES, c.variant === 'full-size' ? 16 : SAMPLES);
      const decode = await loaderRate(ds, undefined, 1, n);
      const augment = await loaderRate(ds, transformOf(c, ds.ignoreIndex), c.batch, n);
      const [ch, cw] = c.augment.crop;
      const step = trainStepRate(c.batch, ch, cw, c.classes);
      const row: Row = {
        dataset: c.dataset,
        variant: c.variant,
        imageSize: `${first.image.width}x${first.image.height}`,
        crop: `${ch}x${cw}`,
        batch: c.batch,
        samples: n,
        decodeSamplesPerSec: Number(decode.toFixed(1)),
        decodeAugmentSamplesPerSec: Number(augment.toFixed(1)),
        trainStepSamplesPerSec: Number(step.toFixed(2)),
        headroom: Number((augment / step).toFixed(1)),
      };
      rows.push(row);
      console.log(
        `${row.dataset.padEnd(11)} ${row.variant.padEnd(9)} image ${row.imageSize.padEnd(10)} crop ${row.crop.padEnd(8)} ` +
          `decode ${String(row.decodeSamplesPerSec).padStart(7)}/s  decode+augment ${String(row.decodeAugmentSamplesPerSec).padStart(7)}/s  ` +
          `train step ${String(row.trainStepSamplesPerSec).padStart(6)}/s  headroom ×${row.headroom}`,
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version },
    backend: formatBackendReport(report),
    units: 'samples per second',
    loader: 'DataLoader host batches (decode with sharp / fast-png, seeded augmentation, collate; no tensors), concurrency 4, prefetch 2; decode-only at batch 1 with no transform',
    augmentation: 'trainTransform: photometric → normalize → random scale (ratio 0.5–2, keep-ratio base for full size) → random crop (cat_max_ratio 0.75) → flip; nyudv2/coco: normalize → scale → crop → flip',
    trainStep: 'stand-in, not a task model: 4×(3×3 conv, 32/64 ch, strides 2,2,1,1) + 1×1 classifier + ×4 bilinear + softmax CE, SGD, on the same crop and batch; the seg/depth/condinst steps are heavier, so real headroom is larger',
    rows,
    skipped,
    segStep: segStepRates(rows),
  };
  fs.mkdirSync(BENCH_RESULTS_DIR, { recursive: true });
  const file = path.join(BENCH_RESULTS_DIR, 'data.json');
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(out, null, 2) + '\n');
  fs.renameSync(`${file}.tmp`, file);
  console.log(`wrote ${path.relative(WORKSPACE_ROOT, file)}`);
}

/**
 * The real consumer, when seg:bench has run: samples per second of each model's default training
 * step (bench-results/seg.json), set against the Cityscapes mini loader's rate from this run.
 */
function segStepRates(rows: readonly Row[]): unknown {
  const file = path.join(BENCH_RESULTS_DIR, 'seg.json');
  if (!fs.existsSync(file)) {
    console.log('(run `npx nx run seg:bench` to compare with the real segmentation training step)');
    return undefined;
  }
  const seg = JSON.parse(fs.readFileSync(file, 'utf8')) as { date: string; batch: number; rows: { model: string; percep: string; seconds: number }[] };
  const loader = rows.find((r) => r.dataset === 'cityscapes' && r.variant === 'mini')?.decodeAugmentSamplesPerSec;
  const out = seg.rows.map((r) => {
    const consumes = seg.batch / r.seconds;
    return { model: r.model, percep: r.percep, samplesPerSec: Number(consumes.toFixed(2)), headroom: loader ? Number((loader / consumes).toFixed(1)) : undefined };
  });
  console.log(`seg:bench of ${seg.date} (batch ${seg.batch}): the real training steps consume`);
  for (const r of out) console.log(`  ${r.model.padEnd(20)} ${(r.percep === 'none' ? 'baseline' : `+GPL ${r.percep}`).padEnd(16)} ${String(r.samplesPerSec).padStart(6)} samples/s  cityscapes-mini loader headroom ×${r.headroom}`);
  return { source: 'bench-results/seg.json', date: seg.date, rows: out };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
