/**
 * Writes the embedded mini datasets (deterministically: regenerating reproduces them byte for byte).
 *
 *   npx nx run tools:generate-datasets                      # all five into datasets/
 *   npx nx run tools:generate-datasets -- --out /tmp/d --only cityscapes-mini,voc-mini
 */
import * as path from 'path';
import { generateAde20kMini } from './datagen/ade20k';
import { generateCocoMini } from './datagen/coco';
import { generateNyuDv2Mini } from './datagen/indoor';
import { generateCityscapesMini } from './datagen/street';
import { generateVocMini } from './datagen/voc';
import { DATASETS_DIR } from './paths';

/** Every mini dataset, by folder name. */
export const GENERATORS: Readonly<Record<string, (root: string) => Promise<void>>> = Object.freeze({
  'cityscapes-mini': generateCityscapesMini,
  'voc-mini': generateVocMini,
  'ade20k-mini': generateAde20kMini,
  'nyudv2-mini': generateNyuDv2Mini,
  'coco-mini': generateCocoMini,
});

export interface GenerateArgs {
  readonly out: string;
  readonly only: readonly string[];
}

/** Parses `--out <dir>` and `--only a,b` (also `--out=<dir>`, `--only=a,b`). */
export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  let out = DATASETS_DIR;
  let only = Object.keys(GENERATORS);
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new RangeError(`generate-datasets: ${flag} needs a value.`);
      return v;
    };
    if (flag === '--out') out = path.resolve(value());
    else if (flag === '--only') {
      only = value().split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = only.filter((n) => !(n in GENERATORS));
      if (unknown.length) throw new RangeError(`generate-datasets: unknown dataset(s) ${unknown.join(', ')}; expected some of ${Object.keys(GENERATORS).join(', ')}.`);
    } else if (flag === '--help' || flag === '-h') {
      throw new RangeError(`usage: generate-datasets [--out <dir>] [--only ${Object.keys(GENERATORS).join(',')}]`);
    } else throw new RangeError(`generate-datasets: unknown argument '${argv[i]}' (expected --out <dir>, --only <names>).`);
  }
  return { out, only };
}

/** Generates the selected datasets into `args.out`, one after another. */
export async function generateDatasets(args: GenerateArgs, log: (line: string) => void = () => undefined): Promise<void> {
  for (const name of args.only) {
    const t0 = Date.now();
    await GENERATORS[name](args.out);
    log(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s → ${path.join(args.out, name)}`);
  }
}

if (require.main === module) {
  let args: GenerateArgs;
  try {
    args = parseGenerateArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  generateDatasets(args, (l) => console.log(l)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
