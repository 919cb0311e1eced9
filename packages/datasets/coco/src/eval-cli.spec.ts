// coco:eval on coco-mini: perfect results built from the ground truth, the --out file, and bad input.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { annotationToRle } from './coco-dataset';
import { runEvalCli } from './eval-cli';
import { decodeRle } from './rle';
import { toCocoResult, writeCocoResults } from './results';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const GT = path.join(ROOT, 'datasets', 'coco-mini', 'annotations', 'instances_val2017.json');

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runEvalCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('coco:eval', () => {
  let dir: string;
  let perfect: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coco-eval-'));
    // every non-crowd annotation as a detection: its own mask (compressed RLE) and box, score 1
    const gt = JSON.parse(fs.readFileSync(GT, 'utf8'));
    const size = new Map<number, [number, number]>(gt.images.map((im: { id: number; height: number; width: number }) => [im.id, [im.height, im.width]]));
    const results = gt.annotations
      .filter((a: { iscrowd: number }) => !a.iscrowd)
      .map((a: { image_id: number; category_id: number; bbox: [number, number, number, number]; segmentation: number[][] }) => {
        const [h, w] = size.get(a.image_id)!;
        return toCocoResult({ imageId: a.image_id, categoryId: a.category_id, score: 1, bbox: a.bbox, mask: decodeRle(annotationToRle(a.segmentation, h, w)), height: h, width: w });
      });
    perfect = path.join(dir, 'perfect.json');
    await writeCocoResults(perfect, results);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(['bbox', 'segm'])('prints AP 1.000 for perfect %s results, −1.000 where no ground truth lies in the range', async (iouType) => {
    const out = path.join(dir, `stats-${iouType}.json`);
    const r = await cli(['--gt', GT, '--dt', perfect, '--iou-type', iouType, '--out', out]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out.slice(0, 6)).toEqual([
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000',
      ' Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 1.000',
      ' Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 1.000',
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 1.000',
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 1.000',
      // coco-mini's objects are all < 96² px
      ' Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000',
    ]);
    expect(r.out[8]).toBe(' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000');
    const stats = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(stats.stats).toHaveLength(12);
    expect(stats.stats[0]).toBeGreaterThan(0.999999);
    expect(stats.stats[5]).toBe(-1);
    expect(Object.keys(stats.perCategory)).toEqual(['person', 'car', 'stop sign', 'frisbee', 'sports ball', 'kite', 'bottle', 'tv']);
    expect(stats.perCategory.person.AP).toBeGreaterThan(0.999999);
  });

  it('lowers AP when detections are missing (one category dropped → its AP 0)', async () => {
    const all = JSON.parse(fs.readFileSync(perfect, 'utf8'));
    const noTv = path.join(dir, 'no-tv.json');
    fs.writeFileSync(noTv, JSON.stringify(all.filter((d: { category_id: number }) => d.category_id !== 72)));
    const r = await cli(['--gt', GT, '--dt', noTv, '--iou-type', 'bbox', '--out', path.join(dir, 'no-tv-stats.json')]);
    // 8 categories with ground truth, one at 0: AP = 7/8
    expect(r.out[0]).toBe(' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.875');
    expect(r.out.find((l) => l.startsWith('tv '))).toMatch(/^tv\s+72\s+0\.0\s+0\.0\s+0\.0\s+1\s+0$/);
  });

  describe('bad input: one or two lines, exit 1, no stack', () => {
    const cases: [string, () => string[], RegExp][] = [
      ['a missing results file', () => ['--gt', GT, '--dt', path.join(dir, 'nope.json'), '--iou-type', 'bbox'], /nope\.json: expected a COCO results JSON file, received no such file/],
      ['malformed results JSON', () => ['--gt', GT, '--dt', write('bad.json', '[{"image_id": 1'), '--iou-type', 'bbox'], /bad\.json: expected a JSON array of COCO results, received text that is not JSON/],
      ['an unknown image_id', () => ['--gt', GT, '--dt', write('img.json', '[{"image_id": 42, "category_id": 1, "bbox": [0,0,1,1], "score": 1}]'), '--iou-type', 'bbox'], /img\.json: expected \[0\]\.image_id to be an image id of .*instances_val2017\.json, received 42/],
      ['an unknown category_id', () => ['--gt', GT, '--dt', write('cat.json', '[{"image_id": 2001, "category_id": 2, "bbox": [0,0,1,1], "score": 1}]'), '--iou-type', 'bbox'], /cat\.json: expected \[0\]\.category_id to be a category id of .* \(1, 3, 13, 34, 37, 38, 44, 72\), received 2/],
      ['a bad --iou-type', () => ['--gt', GT, '--dt', perfect, '--iou-type', 'keypoints'], /--iou-type: expected one of bbox, segm, received "keypoints"/],
      ['a missing --gt', () => ['--dt', perfect, '--iou-type', 'bbox'], /Missing required argument: gt/],
      ['malformed ground truth', () => ['--gt', write('gt.json', '{"images": []}'), '--dt', perfect, '--iou-type', 'bbox'], /gt\.json: expected "annotations" to be an array, received nothing/],
    ];
    const write = (name: string, text: string): string => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    };
    it.each(cases)('%s', async (_name, args, message) => {
      const r = await cli(args());
      expect(r.code).toBe(1);
      expect(r.out).toEqual([]);
      const text = r.err.join('\n');
      expect(text).toMatch(message);
      expect(text.split('\n').length).toBeLessThanOrEqual(2);
      expect(text).not.toMatch(/\n\s+at /);
      if (/image id/.test(text)) expect((await cli([...args(), '--verbose'])).err.join('\n')).toMatch(/\n\s+at /);
    });
  });

  it('runs as a program: exit code 1 and the message on stderr', () => {
    const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
    let status = 0;
    let stderr = '';
    try {
      execFileSync(tsx, ['--tsconfig', path.join(ROOT, 'tsconfig.base.json'), path.join(__dirname, 'eval-cli.ts'), '--gt', GT, '--dt', perfect, '--iou-type', 'box'], { stdio: 'pipe', cwd: ROOT });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(/^\[coco:eval\] --iou-type: expected one of bbox, segm, received "box"\.\nRun with --help for the options\.\n$/);
  });
});
