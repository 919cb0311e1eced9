/**
 * coco:bench — seconds of `cocoEvaluate` (bbox and segm) on a seeded synthetic set, by default
 * 500 images × about 20 detections, beside pycocotools' `evaluate + accumulate + summarize` on the
 * same files when a python3 on PATH imports it (same machine, same run). Also checks that both
 * give the same 12 numbers. Writes bench-results/coco-eval.json.
 * Flags: --images 500, --side 320 (min side; max is twice), --reps 3.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { benchNumberFlag, medianSeconds, writeBenchResults } from '@gpl/core/bench';
import { cocoEvaluate, parseCocoResults, parseEvalGroundTruth, type IouType } from '../src/index';
import { findPycocotoolsPython, syntheticCoco } from '../src/testing';

const images = benchNumberFlag('images', 500);
const side = benchNumberFlag('side', 320);
const reps = benchNumberFlag('reps', 3);

async function main(): Promise<void> {
  const set = syntheticCoco({ seed: 7, images, minSide: side, maxSide: 2 * side, maxObjects: 8, maxFalsePositives: 28, crowdedEvery: 50 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coco-bench-'));
  const gtFile = path.join(dir, 'gt.json');
  const dtFile = path.join(dir, 'dt.json');
  const gtText = JSON.stringify(set.gt);
  const dtText = JSON.stringify(set.results);
  fs.writeFileSync(gtFile, gtText);
  fs.writeFileSync(dtFile, dtText);
  const gt = parseEvalGroundTruth(gtText, 'gt.json');
  const dt = parseCocoResults(dtText, 'dt.json', gt);
  const parseSeconds = await medianSeconds(() => parseCocoResults(dtText, 'dt.json', parseEvalGroundTruth(gtText, 'gt.json')), { reps });
  const python = findPycocotoolsPython();
  const types: IouType[] = ['bbox', 'segm'];
  const reference: { stats: number[]; seconds: number }[] | undefined = python
    ? JSON.parse(
        execFileSync(python, [path.join(__dirname, '..', 'src', 'eval', 'pycocotools-reference.py'), writeJobs(dir, gtFile, dtFile, types)], { maxBuffer: 1 << 30 }).toString(),
      )
    : undefined;
  const rows = [];
  for (const [k, iouType] of types.entries()) {
    const seconds = await medianSeconds(() => cocoEvaluate(gt, dt, { iouType }), { reps });
    const stats = cocoEvaluate(gt, dt, { iouType }).stats;
    const ref = reference?.[k];
    rows.push({
      iouType,
      seconds,
      pycocotoolsSeconds: ref?.seconds ?? null,
      speedup: ref ? ref.seconds / seconds : null,
      sameStats: ref ? ref.stats.every((v, i) => v === stats[i]) : null,
      AP: stats[0],
    });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`synthetic set: ${images} images (sides ${side}–${2 * side} px), ${set.gt.annotations.length} ground truths, ${set.results.length} detections (${(set.results.length / images).toFixed(1)} per image)`);
  console.log(`parse ground truth + results: ${parseSeconds.toFixed(3)} s`);
  console.log('iouType   @gpl/coco s   pycocotools s   ratio   same 12 stats');
  for (const r of rows) {
    const py = r.pycocotoolsSeconds === null ? '—' : r.pycocotoolsSeconds.toFixed(3);
    const ratio = r.speedup === null ? '—' : `${r.speedup.toFixed(2)}×`;
    console.log(`${r.iouType.padEnd(8)}  ${r.seconds.toFixed(3).padStart(11)}   ${py.padStart(13)}   ${ratio.padStart(5)}   ${r.sameStats === null ? '—' : r.sameStats}`);
  }
  if (!python) console.log('pycocotools column skipped: no python3 on PATH imports it (pip install pycocotools)');
  const out = writeBenchResults('coco-eval', {
    images,
    groundTruths: set.gt.annotations.length,
    detections: set.results.length,
    parseSeconds,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    rows,
  });
  console.log(`→ ${out}`);
}

function writeJobs(dir: string, gt: string, dt: string, types: IouType[]): string {
  const file = path.join(dir, 'jobs.json');
  fs.writeFileSync(file, JSON.stringify(types.map((iouType) => ({ gt, dt, iouType }))));
  return file;
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
