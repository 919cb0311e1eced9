/**
 * `npx nx run coco:eval -- --gt instances.json --dt results.json --iou-type bbox|segm [--out stats.json]`:
 * pycocotools' COCOeval on any tool's results. Prints COCOeval's 12 summary lines exactly as
 * `COCOeval.summarize()` does, then a per-category AP table; `--out` writes
 * `{ iouType, stats: [12 numbers], statNames, perCategory }` atomically.
 * Bad input prints one or two lines (which file, index, field or option; what was received and
 * expected) and exits 1; `--verbose` adds the stack.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isDataError, writeFileAtomic } from '@gpl/data';
import { cocoEvaluate, type IouType } from './eval/cocoeval';
import { readEvalGroundTruth } from './eval/ground-truth';
import { perCategoryTable, statsJson, summaryLines } from './eval/summary';
import { readCocoResults } from './results';

const IOU_TYPES: readonly IouType[] = ['bbox', 'segm'];

/** Where the CLI writes (the process streams by default; tests pass collectors). */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** A usage mistake: printed with a pointer to --help. */
class UsageError extends Error {}

async function parseFlags(args: readonly string[]) {
  return yargs([...args])
    .scriptName('coco:eval')
    .usage('$0 --gt instances.json --dt results.json --iou-type bbox|segm [--out stats.json]: COCO AP as pycocotools computes it')
    .option('gt', { type: 'string', demandOption: true, describe: 'ground truth: a COCO instances JSON' })
    .option('dt', { type: 'string', demandOption: true, describe: 'results: a JSON array [{image_id, category_id, bbox, score, segmentation}]' })
    .option('iou-type', { type: 'string', demandOption: true, describe: 'bbox (box IoU) or segm (mask IoU)' })
    .option('out', { type: 'string', describe: 'write { stats, perCategory } here (atomically)' })
    .option('per-category', { type: 'boolean', default: true, describe: 'print the per-category AP table' })
    .option('verbose', { type: 'boolean', default: false, describe: 'print the stack of an error' })
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg: string | undefined, err: Error | undefined) => {
      throw err ?? new UsageError(`[coco:eval] ${msg}`);
    })
    .parseAsync();
}

/** Runs the evaluator on `args` (without the node/script words); returns the exit code. */
export async function runEvalCli(args: readonly string[], io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  const verbose = args.includes('--verbose');
  try {
    if (args.includes('--help')) {
      // yargs prints the help itself; nothing to evaluate.
      await parseFlags(args);
      return 0;
    }
    const argv = await parseFlags(args);
    const iouType = argv['iou-type'];
    if (!IOU_TYPES.includes(iouType as IouType)) {
      throw new UsageError(`[coco:eval] --iou-type: expected one of ${IOU_TYPES.join(', ')}, received ${JSON.stringify(iouType)}.`);
    }
    for (const flag of ['gt', 'dt', 'out'] as const) {
      const v = argv[flag];
      if (v !== undefined && (typeof v !== 'string' || v === '')) throw new UsageError(`[coco:eval] --${flag}: expected a file path, received ${JSON.stringify(v)}.`);
    }
    const gt = readEvalGroundTruth(argv.gt);
    const results = readCocoResults(argv.dt, gt);
    const result = cocoEvaluate(gt, results, { iouType: iouType as IouType });
    for (const line of summaryLines(result)) io.out(line);
    for (const note of result.notes) io.err(`[coco:eval] note: ${note}`);
    if (argv['per-category']) {
      io.out('');
      for (const line of perCategoryTable(result)) io.out(line);
    }
    if (argv.out) {
      await writeFileAtomic(argv.out, JSON.stringify(statsJson(result), null, 1) + '\n');
      io.out(`stats written to ${argv.out}`);
    }
    return 0;
  } catch (e) {
    const err = e as Error;
    if (verbose) io.err(err.stack ?? String(err));
    else if (e instanceof UsageError) io.err(`${err.message}\nRun with --help for the options.`);
    else if (isDataError(e) || e instanceof RangeError || e instanceof TypeError) io.err(err.message);
    else io.err(`[coco:eval] unexpected error: ${err.message} (run with --verbose for the stack)`);
    return 1;
  }
}

if (require.main === module) {
  runEvalCli(hideBin(process.argv)).then((code) => {
    process.exitCode = code;
  });
}
