/**
 * Bad input as a new user gives it, one table row each: flags, config files, dataset folders of
 * every format (truncated, corrupt, wrong channels, out of range, a reordered palette, size
 * mismatch, missing and escaping ids), checkpoints (missing, truncated, wrong shapes, a damaged
 * latest beside an intact older one), soft labels (tampered, wrong size, wrong channels, another
 * dataset) and the library API. Every row checks the exit code, that the message names the right
 * thing, that no stack is printed (and at most two lines), and that nothing partial is left.
 *
 * The CLIs run in this process through the engine's `runCliMain` (what `runCli` does for a real
 * process, minus the exit), so the table costs one Jest worker, not a Node process per row.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { openCityscapes } from '@gpl/cityscapes';
import { checkSoftLabelManifest, decodePng, encodePng, sha256, type Rgb } from '@gpl/data';
import { runCliMain, type CliMain } from '@gpl/engine';
import { GenericPerceptualLoss } from '@gpl/loss';
import { openVoc } from '@gpl/voc';

const ROOT = path.resolve(__dirname, '..', '..');
const MINI = path.join(ROOT, 'datasets');
// The CLIs' entry points, loaded as `tsx` runs them: tasks are never imported by packages, so
// they are required by path here (as a process would start them) rather than through an alias.
const seg = (require(path.join(ROOT, 'packages/tasks/seg/src/main.ts')) as { main: CliMain }).main;
const teacher = (require(path.join(ROOT, 'packages/teacher/src/main.ts')) as { main: CliMain }).main;

process.env.GPL_BACKEND = 'wasm';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-bad-input-'));
const at = (...p: string[]) => path.join(tmp, ...p);
const SIZES = ['--width', '0.125', '--crop', '64,64', '--batch', '2', '--eval-every', '0', '--percep', 'none'];
const TINY = [...SIZES, '--soft-labels', 'none'];

// ---------------------------------------------------------------------------------------------
// Fixtures: small copies of the embedded mini datasets, then one defect each.

function copy(src: string, dst: string): void {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.copyFileSync(src, dst);
}

const listed = (dir: string) => fs.readdirSync(dir).sort();

/** Cityscapes with two train images and one val image. Returns the root and the train label files. */
function cityscapes(name: string): { root: string; labels: string[]; images: string[] } {
  const root = at('data', name);
  const labels: string[] = [];
  const images: string[] = [];
  for (const [split, n] of [['train', 2], ['val', 1]] as const) {
    const city = listed(path.join(MINI, 'cityscapes-mini/leftImg8bit', split))[0];
    for (const f of listed(path.join(MINI, 'cityscapes-mini/leftImg8bit', split, city)).slice(0, n)) {
      const id = f.replace('_leftImg8bit.png', '');
      const img = path.join(root, 'leftImg8bit', split, city, f);
      const label = path.join(root, 'gtFine', split, city, `${id}_gtFine_labelIds.png`);
      copy(path.join(MINI, 'cityscapes-mini/leftImg8bit', split, city, f), img);
      copy(path.join(MINI, 'cityscapes-mini/gtFine', split, city, `${id}_gtFine_labelIds.png`), label);
      if (split === 'train') {
        labels.push(label);
        images.push(img);
      }
    }
  }
  return { root, labels, images };
}

const VOC_MINI = path.join(MINI, 'voc-mini/VOCdevkit/VOC2012');

/** VOC with two train ids and one val id. */
function voc(name: string): { root: string; voc: string; ids: string[]; labels: string[] } {
  const root = at('data', name);
  const dir = path.join(root, 'VOCdevkit/VOC2012');
  const all = fs.readFileSync(path.join(VOC_MINI, 'ImageSets/Segmentation/train.txt'), 'utf8').split('\n').filter(Boolean);
  const val = fs.readFileSync(path.join(VOC_MINI, 'ImageSets/Segmentation/val.txt'), 'utf8').split('\n').filter(Boolean);
  const ids = all.slice(0, 2);
  for (const id of [...ids, val[0]]) {
    copy(path.join(VOC_MINI, 'JPEGImages', `${id}.jpg`), path.join(dir, 'JPEGImages', `${id}.jpg`));
    copy(path.join(VOC_MINI, 'SegmentationClass', `${id}.png`), path.join(dir, 'SegmentationClass', `${id}.png`));
  }
  fs.mkdirSync(path.join(dir, 'ImageSets/Segmentation'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'ImageSets/Segmentation/train.txt'), ids.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'ImageSets/Segmentation/val.txt'), val[0] + '\n');
  return { root, voc: dir, ids, labels: ids.map((id) => path.join(dir, 'SegmentationClass', `${id}.png`)) };
}

const ADE_MINI = path.join(MINI, 'ade20k-mini/ADEChallengeData2016');

/** ADE20K with two training and one validation image. */
function ade20k(name: string): { root: string; labels: string[] } {
  const root = at('data', name, 'ADEChallengeData2016');
  const labels: string[] = [];
  for (const [split, n] of [['training', 2], ['validation', 1]] as const) {
    for (const f of listed(path.join(ADE_MINI, 'images', split)).slice(0, n)) {
      const stem = f.replace('.jpg', '');
      copy(path.join(ADE_MINI, 'images', split, f), path.join(root, 'images', split, f));
      copy(path.join(ADE_MINI, 'annotations', split, `${stem}.png`), path.join(root, 'annotations', split, `${stem}.png`));
      if (split === 'training') labels.push(path.join(root, 'annotations', split, `${stem}.png`));
    }
  }
  return { root: path.dirname(root), labels };
}

/** A custom-folder segmentation dataset made of VOC samples (21 classes, the VOC colormap by default). */
function custom(name: string): { root: string; labels: string[] } {
  const root = at('data', name);
  const v = voc(`${name}-src`);
  const names = ['background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor'];
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'classes.json'), JSON.stringify({ names }));
  const val = fs.readFileSync(path.join(v.voc, 'ImageSets/Segmentation/val.txt'), 'utf8').trim();
  const labels: string[] = [];
  for (const [split, ids] of [['train', v.ids], ['val', [val]]] as const) {
    for (const id of ids) {
      copy(path.join(v.voc, 'JPEGImages', `${id}.jpg`), path.join(root, 'images', split, `${id}.jpg`));
      copy(path.join(v.voc, 'SegmentationClass', `${id}.png`), path.join(root, 'labels', split, `${id}.png`));
      if (split === 'train') labels.push(path.join(root, 'labels', split, `${id}.png`));
    }
  }
  return { root, labels };
}

const truncate = (file: string) => fs.writeFileSync(file, fs.readFileSync(file).subarray(0, Math.floor(fs.statSync(file).size / 2)));

/** Rewrites a label PNG's samples (and palette) through `edit`. */
function rewritePng(file: string, edit: (data: Uint8Array, width: number, height: number, palette?: Rgb[]) => { data: Uint8Array; width?: number; height?: number; palette?: Rgb[]; channels?: 1 | 3 }): void {
  const png = decodePng(fs.readFileSync(file));
  const out = edit(Uint8Array.from(png.data as Uint8Array), png.width, png.height, png.palette ? png.palette.map((c) => [c[0], c[1], c[2]] as Rgb) : undefined);
  fs.writeFileSync(
    file,
    encodePng({ width: out.width ?? png.width, height: out.height ?? png.height, channels: out.channels ?? 1, bitDepth: 8, data: out.data, ...(out.palette ? { palette: out.palette } : {}) }),
  );
}

/**
 * What an image editor's "optimised palette" does: the same colours at other indices. Indices 0
 * and the first other class used swap places in the palette and in the pixels, so the picture is
 * unchanged and its indices are not.
 */
function reorderPalette(file: string, asPalette?: Rgb[]): void {
  rewritePng(file, (data, _w, _h, palette) => {
    const p = palette ?? asPalette!;
    const other = data.find((v) => v !== 0 && v !== 255 && v < p.length) ?? 1;
    const swapped = p.map((c) => [c[0], c[1], c[2]] as Rgb);
    [swapped[0], swapped[other]] = [p[other], p[0]];
    return { data: data.map((v) => (v === 0 ? other : v === other ? 0 : v)), palette: swapped };
  });
}

const setPixel = (file: string, value: number) => rewritePng(file, (data, _w, _h, palette) => ({ data: data.map((v, i) => (i === 5 ? value : v)), ...(palette ? { palette } : {}) }));
const halfHeight = (file: string) => rewritePng(file, (data, w, h, palette) => ({ data: data.subarray(0, w * Math.floor(h / 2)), height: Math.floor(h / 2), ...(palette ? { palette } : {}) }));
const asRgb = (file: string) => rewritePng(file, (data) => ({ data: Uint8Array.from({ length: data.length * 3 }, (_, i) => data[Math.floor(i / 3)]), channels: 3 }));

// ---------------------------------------------------------------------------------------------
// The table.

interface Row {
  readonly name: string;
  /** The CLI and its arguments, or a library call run as a CLI main. */
  readonly run: () => Promise<number>;
  readonly code?: number;
  /** What stderr must say. */
  readonly says: RegExp;
  /** What stdout must say (for rows that succeed). */
  readonly prints?: RegExp;
  /** Paths that must not exist afterwards (run folders of runs that failed before their first step). */
  readonly leaves?: readonly string[];
  /** An unexpected internal error: its stack is printed. */
  readonly stack?: boolean;
  /** Environment variables for the row. */
  readonly env?: Record<string, string>;
}

let rowCount = 0;
const out = () => at('out', `row-${++rowCount}`);
const cli = (main: CliMain, args: readonly string[]) => () => runCliMain(main, args);
const api = (call: () => unknown) => cli(async () => void (await call()), []);

/** A `seg train` row on a dataset folder whose run folder must not be left behind. */
function trainRow(name: string, dataset: string, root: () => string, says: RegExp, extra: readonly string[] = []): Row {
  const o = out();
  return { name, run: () => runCliMain(seg, ['train', '--dataset', dataset, '--data-root', root(), ...TINY, '--iters', '1', ...extra, '--out', o]), says, leaves: [o] };
}

// Fixture roots, made in beforeAll (rows read them lazily).
const roots: Record<string, string> = {};
const root = (key: string) => () => roots[key];
let checkpointRun = '';
let softLabels = '';

function copyDir(src: string, dst: string): string {
  fs.cpSync(src, dst, { recursive: true });
  return dst;
}

/** A copy of the soft-label folder with its manifest edited. */
function softVariant(name: string, edit: (dir: string, manifest: Record<string, unknown> & { files: Record<string, Record<string, unknown>> }) => void): string {
  const dir = copyDir(softLabels, at('soft', name));
  const file = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(dir, m);
  fs.writeFileSync(file, JSON.stringify(m));
  return dir;
}

const OK_CS = root('cs-ok');
const trainOn = (soft: () => string, name: string, says: RegExp): Row => {
  const o = out();
  return { name, run: () => runCliMain(seg, ['train', '--data-root', OK_CS(), ...SIZES, '--iters', '1', '--soft-labels', soft(), '--out', o]), says, leaves: [o] };
};

const file = (name: string, text: string) => {
  const f = at('files', name);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
};

const rows: Row[] = [
  // Flags.
  { name: 'an unknown flag', run: cli(seg, ['train', '--itres', '5']), says: /^Unknown argument: itres\. Run with --help/ },
  { name: 'a model not in the registry', run: cli(seg, ['train', '--model', 'unet']), says: /Argument: model, Given: "unet", Choices: "pspnet-r18"/ },
  { name: '--lr 0', run: cli(seg, ['train', '--lr', '0']), says: /\[seg\] option 'lr': expected a finite learning rate > 0, received 0\./ },
  { name: '--lr -1 (the same range as 0)', run: cli(seg, ['train', '--lr', '-1']), says: /\[seg\] option 'lr': expected a finite learning rate > 0, received -1\./ },
  { name: '--lr without a value', run: cli(seg, ['train', '--lr']), says: /Not enough arguments following: lr/ },
  { name: 'a flag given twice', run: cli(seg, ['train', '--lr', '0.1', '--lr', '0.2']), says: /\[seg\] --lr was given 2 times \(0\.1, 0\.2\); give it once\./ },
  { name: 'a fractional --iters', run: cli(seg, ['train', '--iters', '1.5']), says: /option 'iters': expected a positive integer, received 1\.5/ },
  { name: 'a crop not a multiple of 32', run: cli(seg, ['train', '--crop', '100,64']), says: /option 'crop': expected \[height, width\], positive multiples of 32/ },
  { name: 'a crop that is not numbers', run: cli(seg, ['train', '--crop', 'abc']), says: /option 'crop': expected 'height,width' \(e\.g\. 128,256\), received 'abc'/ },
  { name: 'a loss network that does not exist', run: cli(seg, ['train', '--percep', 'vgg17']), says: /option 'percep': expected a preset .* received 'vgg17'/ },
  { name: 'an unknown loss-network init', run: cli(seg, ['train', '--percep-init', 'gauss']), says: /option 'percepInit': .* received 'gauss'/ },
  { name: 'momentum 1', run: cli(seg, ['train', '--momentum', '1']), says: /option 'momentum': expected a value in \[0, 1\), received 1/ },
  { name: 'a backend that does not exist', run: cli(seg, ['train', '--backend', 'nosuch']), says: /Argument: backend, Given: "nosuch"/ },
  { name: 'GPL_BACKEND=nosuch, named as the variable', run: cli(seg, ['train']), env: { GPL_BACKEND: 'nosuch' }, says: /environment variable GPL_BACKEND/ },
  { name: '--dataset custom without --data-root', run: cli(seg, ['train', '--dataset', 'custom']), says: /--dataset custom has no embedded data; pass --data-root/ },
  { name: '--out naming a file', run: () => runCliMain(seg, ['train', ...TINY, '--out', file('a-file', 'x')]), says: /option 'out': .*a-file is a file, expected a run folder/ },
  { name: '--resume in a folder without checkpoints', run: () => runCliMain(seg, ['train', ...TINY, '--resume', '--out', at('data')]), says: /--resume: .* holds no checkpoint/ },
  { name: 'eval --mode slide --crop 0,0 names the crop', run: cli(seg, ['eval', '--mode', 'slide', '--crop', '0,0']), says: /\[seg\] eval option 'crop': expected 'height,width' of positive integers .* received '0,0'/ },
  { name: 'eval --overlays -1', run: cli(seg, ['eval', '--overlays', '-1']), says: /eval option 'overlays': expected a number of samples ≥ 0, received -1/ },
  { name: 'compare --seeds a', run: cli(seg, ['compare', '--seeds', 'a']), says: /option 'seeds': expected integers like 1,2,3, received 'a'/ },
  { name: 'compare --percep none', run: () => runCliMain(seg, ['compare', '--percep', 'none', '--out', at('never-compare')]), says: /--percep none leaves nothing to compare/, leaves: [at('never-compare')] },
  { name: 'teacher --checkpoint given twice', run: cli(teacher, ['--checkpoint', 'a', '--checkpoint', 'b']), says: /\[@gpl\/teacher\] --checkpoint was given 2 times \(a, b\)/ },
  { name: 'teacher --shard -1/2', run: cli(teacher, ['--shard', '-1/2']), says: /option 'shard': expected 'i\/n' with 0 ≤ i < n .* received '-1\/2'/ },
  { name: 'teacher --shard 2/2', run: cli(teacher, ['--shard', '2/2']), says: /option 'shard': .* received '2\/2'/ },
  { name: 'teacher --shard a/b', run: cli(teacher, ['--shard', 'a/b']), says: /option 'shard': .* received 'a\/b'/ },
  { name: 'teacher --stride 0', run: cli(teacher, ['--stride', '0', '--checkpoint', at('none')]), says: /option 'stride': expected a positive integer, received 0/ },

  // Config files.
  { name: '--config that does not exist', run: () => runCliMain(seg, ['train', '--config', at('nope.json')]), says: /--config .*nope\.json: no such file; expected a JSON object of options/ },
  { name: '--config holding null', run: () => runCliMain(seg, ['train', '--config', file('null.json', 'null')]), says: /--config .*null\.json: expected a JSON object of options, received null/ },
  { name: '--config holding an array', run: () => runCliMain(seg, ['train', '--config', file('array.json', '[1]')]), says: /--config .*array\.json: expected a JSON object of options, received \[1\]/ },
  { name: '--config with an unknown key', run: () => runCliMain(seg, ['train', '--config', file('unknown.json', '{"iterz": 3}')]), says: /--config .*unknown\.json: unknown option\(s\) iterz/ },
  { name: '--config that is not JSON', run: () => runCliMain(seg, ['train', '--config', file('broken.json', '{"iters": ')]), says: /--config .*broken\.json: .*JSON/ },
  { name: '--config with a wrong type', run: () => runCliMain(seg, ['train', '--config', file('typed.json', '{"iters": "ten"}')]), says: /option 'iters': expected a positive integer, received "ten"/ },

  // Dataset roots: named, with the flags that fix them, for every format.
  trainRow('a --data-root that does not exist (cityscapes)', 'cityscapes', () => at('no-such-root'), /wrong-layout: .*no-such-root: expected the Cityscapes layout .* received no such folder\. .*--dataset voc, ade20k or custom/),
  trainRow('an empty --data-root (voc)', 'voc', root('empty'), /\[@gpl\/voc\] wrong-layout: .*empty: .*received an empty folder\. .*--dataset cityscapes, ade20k or custom/),
  trainRow('an empty --data-root (ade20k)', 'ade20k', root('empty'), /\[@gpl\/ade20k\] wrong-layout: .*empty: .*received an empty folder\. .*--dataset cityscapes, voc or custom/),
  trainRow('an empty --data-root (custom)', 'custom', root('empty'), /\[@gpl\/data\] wrong-layout: .*empty: .*received an empty folder\. .*--dataset cityscapes, voc or ade20k/),
  trainRow('a Cityscapes folder given as VOC', 'voc', OK_CS, /\[@gpl\/voc\] wrong-layout: .*cs-ok: .*received a folder without ImageSets\/Segmentation\. .*--dataset cityscapes/),

  // Dataset files.
  trainRow('cityscapes: a truncated label', 'cityscapes', root('cs-truncated'), /\[@gpl\/cityscapes\] unreadable-image: gtFine\/train\/.*_gtFine_labelIds\.png: .*truncated PNG/),
  trainRow('cityscapes: a corrupt image', 'cityscapes', root('cs-corrupt'), /\[@gpl\/cityscapes\] unreadable-image: leftImg8bit\/train\/.*_leftImg8bit\.png: expected a decodable JPEG or PNG image/),
  trainRow('cityscapes: an RGB label', 'cityscapes', root('cs-rgb'), /\[@gpl\/cityscapes\] unreadable-image: gtFine\/train\/.*labelIds\.png: expected a single-channel label PNG .* received 8-bit RGB\. Convert colour-coded labels/),
  trainRow('cityscapes: a label id out of range', 'cityscapes', root('cs-range'), /\[@gpl\/cityscapes\] label-out-of-range: gtFine\/train\/.*labelIds\.png: expected label ids 0\.\.33 or 255, received value 200 at pixel \(x=5, y=0\)/),
  trainRow('cityscapes: a label of another size', 'cityscapes', root('cs-size'), /\[@gpl\/cityscapes\] size-mismatch: gtFine\/train\/.*labelIds\.png: expected 256×128 to match leftImg8bit\/.*, received 256×64/),
  trainRow('cityscapes: a missing label', 'cityscapes', root('cs-missing'), /\[@gpl\/cityscapes\] missing-file: gtFine\/train\/.*labelIds\.png: expected the gtFine label of leftImg8bit/),
  trainRow('voc: a reordered (optimised) palette', 'voc', root('voc-palette'), /\[@gpl\/voc\] palette-mismatch: SegmentationClass\/.*\.png: expected palette indices that are the class values .* received a reordered palette: index 0 is .* the colour of index \d+ '.*' in the VOC colormap/),
  trainRow('voc: a label of another size than its image (found at open)', 'voc', root('voc-size'), /\[@gpl\/voc\] size-mismatch: SegmentationClass\/.*\.png: expected \d+×\d+ to match JPEGImages\/.*\.jpg, received \d+×\d+/),
  trainRow('voc: a class index out of range', 'voc', root('voc-range'), /\[@gpl\/voc\] label-out-of-range: .*SegmentationClass\/.*\.png: expected class indices 0\.\.20 or 255 \(void\), received value 30 at pixel \(x=5, y=0\)/),
  trainRow('voc: an id without files', 'voc', root('voc-missing'), /\[@gpl\/voc\] missing-file: JPEGImages\/no_such_id\.jpg: expected the file of id 'no_such_id' listed in ImageSets\/Segmentation\/train\.txt row 3/),
  trainRow('voc: an id escaping the dataset', 'voc', root('voc-escape'), /\[@gpl\/voc\] path-escape: ImageSets\/Segmentation\/train\.txt row 3: expected a path inside the dataset root/),
  trainRow('voc: a truncated JPEG', 'voc', root('voc-jpeg'), /\[@gpl\/voc\] unreadable-image: JPEGImages\/.*\.jpg: expected a decodable JPEG or PNG image/),
  trainRow('ade20k: an annotation value out of range', 'ade20k', root('ade-range'), /\[@gpl\/ade20k\] label-out-of-range: .*annotations\/training\/.*\.png: expected annotation values 0\.\.150, received value 200/),
  trainRow('ade20k: a palette annotation with a reordered palette', 'ade20k', root('ade-palette'), /\[@gpl\/ade20k\] palette-mismatch: annotations\/training\/.*\.png: .*received a reordered palette: index \d+ is/),
  trainRow('ade20k: an annotation of another size than its image', 'ade20k', root('ade-size'), /\[@gpl\/ade20k\] size-mismatch: annotations\/training\/.*\.png: expected \d+×\d+ to match images\/training\/.*\.jpg/),
  trainRow('ade20k: a missing annotation', 'ade20k', root('ade-missing'), /\[@gpl\/ade20k\] missing-file: annotations\/training\/.*\.png: expected the annotation of images\/training\//),
  trainRow('custom: a reordered palette', 'custom', root('custom-palette'), /\[@gpl\/data\] palette-mismatch: labels\/train\/.*\.png: .*received a reordered palette: index 0 is .* in the classes\.json palette/),
  trainRow('custom: a class index out of range', 'custom', root('custom-range'), /\[@gpl\/data\] label-out-of-range: labels\/train\/.*\.png: expected class indices 0\.\.20 or 255 \(ignore\), received value 30/),
  trainRow('custom: a label of another size', 'custom', root('custom-size'), /\[@gpl\/data\] size-mismatch: labels\/train\/.*\.png: expected \d+×\d+ to match images\/train\//),
  trainRow('custom: a split list escaping the dataset', 'custom', root('custom-escape'), /\[@gpl\/data\] path-escape: splits\/train\.txt row 1: expected a path inside the dataset root/),
  trainRow('custom: classes.json that is not JSON', 'custom', root('custom-json'), /\[@gpl\/data\] malformed-json: classes\.json: expected valid JSON/),

  // Checkpoints.
  { name: 'eval: a checkpoint that does not exist', run: () => runCliMain(seg, ['eval', '--checkpoint', at('no-run')]), says: /\[@gpl\/engine\] --checkpoint .*no-run: does not exist/ },
  { name: 'eval: a truncated weights.bin', run: () => runCliMain(seg, ['eval', '--checkpoint', roots['ck-truncated']]), says: /\[@gpl\/core\] checkpoint: weights listed in .*step-00000002\/model\.json need \d+ bytes, the \.bin files hold \d+/ },
  { name: 'eval: weights of other shapes', run: () => runCliMain(seg, ['eval', '--checkpoint', roots['ck-shapes']]), says: /\[@gpl\/core\] .*shape/ },
  {
    name: '--resume with a damaged latest checkpoint falls back to the intact older one',
    run: () => runCliMain(seg, ['train', '--data-root', OK_CS(), ...TINY, '--iters', '2', '--checkpoint-every', '1', '--resume', '--out', roots['ck-latest-damaged']]),
    code: 0,
    says: /^$/,
    prints: /--resume: step-00000002 is damaged .*resuming from the newest intact checkpoint, step-00000001\.[\s\S]*resumed from .*step-00000001 at step 1\/2/,
  },
  { name: 'teacher: a truncated checkpoint', run: () => runCliMain(teacher, ['--checkpoint', roots['ck-truncated'], '--data-root', OK_CS(), '--out', at('never-soft-1')]), says: /\[@gpl\/core\] checkpoint: weights listed in .*model\.json need \d+ bytes/, leaves: [at('never-soft-1')] },
  { name: 'teacher: --out naming a file', run: () => runCliMain(teacher, ['--checkpoint', checkpointRun, '--data-root', OK_CS(), '--out', file('soft-file', 'x')]), says: /\[@gpl\/teacher\] option 'out': .*soft-file is a file/ },
  { name: 'teacher: a dataset folder of another format', run: () => runCliMain(teacher, ['--checkpoint', checkpointRun, '--dataset', 'voc', '--data-root', OK_CS(), '--out', at('never-soft-2')]), says: /\[@gpl\/voc\] wrong-layout: .*--dataset cityscapes/, leaves: [at('never-soft-2')] },

  // Soft labels.
  trainOn(() => roots['soft-tampered'], 'soft labels: a tampered file', /\[@gpl\/data\] soft labels .*manifest\.json: '.*\.gplsoft' has checksum not matching the manifest/),
  trainOn(() => roots['soft-size'], 'soft labels: a file whose stored size its manifest does not describe', /\[@gpl\/data\] soft labels .*: '.*\.gplsoft' stores 16×8×19 \(width×height×channels\), its manifest entry says 32×16×19/),
  trainOn(() => roots['soft-image-size'], 'soft labels: a map of another image size', /\[@gpl\/data\] size-mismatch: .*\.gplsoft: expected soft labels of image .* \(256×128, i\.e\. 32×16 at the manifest's stride 8\), received 20×10/),
  trainOn(() => roots['soft-channels'], 'soft labels: other channels than classes', /\[@gpl\/data\] soft labels .*: '.*\.gplsoft' has 18 channels, expected 19/),
  trainOn(() => roots['soft-dataset'], 'soft labels: made for another dataset', /\[@gpl\/data\] soft labels .*: made for dataset 'voc', the run trains on 'cityscapes'/),

  // The library API (run as a CLI main, as a user's script would end).
  { name: 'GenericPerceptualLoss with 0 input channels', run: api(() => new GenericPerceptualLoss({ inChannels: 0 })), says: /\[@gpl\/loss\] .*inChannels/ },
  {
    name: 'GenericPerceptualLoss.compute on prediction and target of other shapes',
    run: api(() => {
      const gpl = new GenericPerceptualLoss({ inChannels: 2, blocks: [1], channels: [4], seed: 1 });
      const [p, t] = [tf.zeros([1, 8, 8, 2]) as tf.Tensor4D, tf.zeros([1, 8, 4, 2]) as tf.Tensor4D];
      try {
        return gpl.compute(p, t);
      } finally {
        tf.dispose([p, t]);
        gpl.dispose();
      }
    }),
    says: /\[@gpl\/loss\] .*\[1,8,8,2\].*\[1,8,4,2\]|\[@gpl\/loss\] .*shape/,
  },
  { name: 'openVoc without a root', run: api(() => openVoc({ root: '' })), says: /\[@gpl\/voc\] openVoc: root must be a directory path/ },
  { name: "openCityscapes with labelType 'colour'", run: api(() => openCityscapes({ root: OK_CS(), labelType: 'colour' as 'labelIds' })), says: /\[@gpl\/cityscapes\] openCityscapes: labelType must be 'labelIds' or 'labelTrainIds', received 'colour'/ },
  { name: 'decodePng of bytes that are no PNG', run: api(() => decodePng(Buffer.from('not a png'), 'x.png')), says: /\[@gpl\/data\] decodePng: x\.png: expected a complete PNG, received a file without the PNG signature/ },
  { name: 'checkSoftLabelManifest of a folder without one', run: api(() => checkSoftLabelManifest(at('data'), { dataset: 'cityscapes', split: 'train', classNames: ['a'], ids: [] })), says: /manifest\.json is missing/ },
  {
    name: 'an unexpected internal error keeps its stack',
    run: api(() => {
      throw new TypeError('Cannot read properties of undefined');
    }),
    says: /TypeError: Cannot read properties of undefined\n\s+at /,
    stack: true,
  },
];

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  fs.mkdirSync(at('data', 'empty'), { recursive: true });
  roots['empty'] = at('data', 'empty');
  roots['cs-ok'] = cityscapes('cs-ok').root;
  /** A fixture of one format with one defect, registered under its name. */
  const defective =
    <F extends { root: string }>(make: (name: string) => F) =>
    (name: string, defect: (f: F) => void) => {
      const f = make(name);
      defect(f);
      roots[name] = f.root;
    };
  const cs = defective(cityscapes);
  cs('cs-truncated', (c) => c.labels.forEach(truncate));
  cs('cs-corrupt', (c) => c.images.forEach((f) => fs.writeFileSync(f, Buffer.concat([fs.readFileSync(f).subarray(0, 64), Buffer.alloc(512, 7)]))));
  cs('cs-rgb', (c) => c.labels.forEach(asRgb));
  cs('cs-range', (c) => c.labels.forEach((f) => setPixel(f, 200)));
  cs('cs-size', (c) => c.labels.forEach(halfHeight));
  cs('cs-missing', (c) => fs.rmSync(c.labels[0]));

  const v = defective(voc);
  v('voc-palette', (d) => d.labels.forEach((f) => reorderPalette(f)));
  v('voc-size', (d) => d.labels.forEach(halfHeight));
  v('voc-range', (d) => d.labels.forEach((f) => setPixel(f, 30)));
  v('voc-missing', (d) => fs.appendFileSync(path.join(d.voc, 'ImageSets/Segmentation/train.txt'), 'no_such_id\n'));
  v('voc-escape', (d) => fs.appendFileSync(path.join(d.voc, 'ImageSets/Segmentation/train.txt'), '../../../../etc/passwd\n'));
  v('voc-jpeg', (d) => d.ids.forEach((id) => truncate(path.join(d.voc, 'JPEGImages', `${id}.jpg`))));

  const a = defective(ade20k);
  a('ade-range', (d) => d.labels.forEach((f) => setPixel(f, 200)));
  // A palette annotation in the ADE20K colours (value v shows class v − 1's colour), then reordered.
  const { ADE20K_PALETTE } = await import('@gpl/ade20k');
  const adeColours: Rgb[] = [[0, 0, 0], ...ADE20K_PALETTE.map((c) => [c[0], c[1], c[2]] as Rgb)];
  a('ade-palette', (d) => d.labels.forEach((f) => reorderPalette(f, adeColours)));
  a('ade-size', (d) => d.labels.forEach(halfHeight));
  a('ade-missing', (d) => fs.rmSync(d.labels[0]));

  const c = defective(custom);
  c('custom-palette', (d) => d.labels.forEach((f) => reorderPalette(f)));
  c('custom-range', (d) => d.labels.forEach((f) => setPixel(f, 30)));
  c('custom-size', (d) => d.labels.forEach(halfHeight));
  c('custom-escape', (d) => {
    fs.mkdirSync(path.join(d.root, 'splits'));
    fs.writeFileSync(path.join(d.root, 'splits/train.txt'), '../../outside\n');
  });
  c('custom-json', (d) => fs.writeFileSync(path.join(d.root, 'classes.json'), '{"names": ['));

  // A trained run (two checkpoints) and the teacher's soft labels of it, then damaged copies.
  checkpointRun = at('ck');
  const capture = silence();
  const trained = await runCliMain(seg, ['train', '--data-root', roots['cs-ok'], ...TINY, '--iters', '2', '--checkpoint-every', '1', '--out', checkpointRun]);
  softLabels = at('soft', 'ok');
  const generated = await runCliMain(teacher, ['--checkpoint', checkpointRun, '--data-root', roots['cs-ok'], '--out', softLabels]);
  capture.restore();
  expect({ trained, generated, stderr: capture.stderr() }).toEqual({ trained: 0, generated: 0, stderr: '' });

  const steps = path.join('checkpoints');
  roots['ck-truncated'] = copyDir(checkpointRun, at('ck-truncated'));
  truncate(path.join(roots['ck-truncated'], steps, 'step-00000002', 'weights.bin'));
  truncate(path.join(roots['ck-truncated'], steps, 'step-00000001', 'weights.bin'));
  roots['ck-shapes'] = copyDir(checkpointRun, at('ck-shapes'));
  for (const step of ['step-00000001', 'step-00000002']) {
    const state = path.join(roots['ck-shapes'], steps, step, 'state.json');
    fs.writeFileSync(state, JSON.stringify({ ...JSON.parse(fs.readFileSync(state, 'utf8')), width: 0.25 }));
  }
  roots['ck-latest-damaged'] = copyDir(checkpointRun, at('ck-latest-damaged'));
  truncate(path.join(roots['ck-latest-damaged'], steps, 'step-00000002', 'weights.bin'));

  roots['soft-tampered'] = softVariant('tampered', (dir, m) => fs.appendFileSync(path.join(dir, Object.values(m.files)[0].file as string), 'x'));
  const rewrite = (name: string, size: [number, number], manifestToo: boolean) =>
    softVariant(name, (dir, m) => {
      const entry = Object.values(m.files)[0];
      const f = path.join(dir, entry.file as string);
      const [w, h] = size;
      const { encodeSoftLabels } = jest.requireActual('@gpl/data') as typeof import('@gpl/data');
      const bytes = encodeSoftLabels({ data: new Float32Array(w * h * 19).fill(1 / 19), height: h, width: w, channels: 19 });
      fs.writeFileSync(f, bytes);
      entry.sha256 = sha256(bytes);
      if (manifestToo) Object.assign(entry, { width: w, height: h });
    });
  roots['soft-size'] = rewrite('size', [16, 8], false);
  roots['soft-image-size'] = rewrite('image-size', [20, 10], true);
  roots['soft-channels'] = softVariant('channels', (_dir, m) => Object.assign(Object.values(m.files)[0], { channels: 18 }));
  roots['soft-dataset'] = softVariant('dataset', (_dir, m) => Object.assign(m, { dataset: 'voc' }));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Captures console output and direct writes to stdout/stderr until `restore`: `stderr` is what
 * was printed as messages (console.error/warn), `progress` the progress bars written to stderr.
 */
function silence() {
  const err: string[] = [];
  const log: string[] = [];
  const raw: string[] = [];
  const spies = [
    jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.map(String).join(' '))),
    jest.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void err.push(a.map(String).join(' '))),
    jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void log.push(a.map(String).join(' '))),
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (log.push(String(chunk)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (raw.push(String(chunk)), true)),
  ];
  return { stderr: () => err.join('\n'), progress: () => raw.join(''), stdout: () => log.join('\n'), restore: () => spies.forEach((s) => s.mockRestore()) };
}

describe('bad input: one clear line each, nothing silently wrong, nothing half-written', () => {
  it('covers at least 50 kinds of bad input', () => {
    expect(rows.length).toBeGreaterThanOrEqual(50);
  });

  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const saved = { ...process.env };
    Object.assign(process.env, row.env ?? {});
    const capture = silence();
    let code: number;
    try {
      code = await row.run();
    } finally {
      capture.restore();
      process.env = saved;
    }
    const stderr = capture.stderr();
    expect({ code, stderr }).toEqual({ code: row.code ?? 1, stderr: expect.stringMatching(row.says) });
    if (row.prints) expect(capture.stdout()).toMatch(row.prints);
    if (row.stack) {
      expect(stderr).toMatch(/\n\s+at /);
    } else {
      expect(stderr + capture.progress()).not.toMatch(/\n\s+at /);
      expect(stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    }
    for (const p of row.leaves ?? []) expect({ left: p, exists: fs.existsSync(p) }).toEqual({ left: p, exists: false });
  });
});
