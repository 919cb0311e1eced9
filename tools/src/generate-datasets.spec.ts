import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodePng } from '@gpl/data';
import { generateDatasets, parseGenerateArgs } from './generate-datasets';
import { DATASETS_DIR } from './paths';
import { renderStreet, cityscapesLabels, STREET } from './datagen/street';

const MINE = ['cityscapes-mini', 'voc-mini', 'ade20k-mini'];

function listFiles(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(p, base) : [path.relative(base, p)];
  }).sort();
}

describe('generate-datasets arguments', () => {
  it('defaults to every dataset in the workspace datasets/ folder', () => {
    const a = parseGenerateArgs([]);
    expect(a.out).toBe(DATASETS_DIR);
    expect(a.only).toEqual(['cityscapes-mini', 'voc-mini', 'ade20k-mini', 'nyudv2-mini', 'coco-mini']);
  });

  it('takes --out and --only (both spellings) and rejects unknown names', () => {
    expect(parseGenerateArgs(['--out', '/tmp/x', '--only', 'voc-mini,ade20k-mini'])).toEqual({ out: path.resolve('/tmp/x'), only: ['voc-mini', 'ade20k-mini'] });
    expect(parseGenerateArgs(['--only=coco-mini']).only).toEqual(['coco-mini']);
    expect(() => parseGenerateArgs(['--only', 'kitti-mini'])).toThrow(/unknown dataset\(s\) kitti-mini/);
    expect(() => parseGenerateArgs(['--out'])).toThrow(/needs a value/);
    expect(() => parseGenerateArgs(['--fast'])).toThrow(/unknown argument/);
  });
});

describe('street, VOC and ADE20K minis', () => {
  let out: string;
  beforeAll(async () => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-gen-'));
    await generateDatasets({ out, only: MINE });
  }, 120000);
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it.each(MINE)('%s regenerates byte for byte as committed', (name) => {
    const committed = listFiles(path.join(DATASETS_DIR, name));
    const fresh = listFiles(path.join(out, name));
    expect(fresh).toEqual(committed);
    const differing = fresh.filter((f) => !fs.readFileSync(path.join(out, name, f)).equals(fs.readFileSync(path.join(DATASETS_DIR, name, f))));
    expect(differing).toEqual([]);
  });

  it('stays within the size budget (≲ 12 MB for the three)', () => {
    const bytes = MINE.flatMap((n) => listFiles(path.join(out, n)).map((f) => fs.statSync(path.join(out, n, f)).size)).reduce((a, b) => a + b, 0);
    expect(bytes).toBeLessThan(12e6);
  });

  it('leaves no temporary build folders behind', () => {
    expect(fs.readdirSync(out).sort()).toEqual([...MINE].sort());
  });

  it('writes Cityscapes instance ids consistent with label ids', () => {
    const gt = path.join(out, 'cityscapes-mini/gtFine/val/lindau/lindau_000001_000019_gtFine_');
    const labelIds = decodePng(fs.readFileSync(`${gt}labelIds.png`)).data;
    const inst = decodePng(fs.readFileSync(`${gt}instanceIds.png`));
    expect(inst.bitDepth).toBe(16);
    let bad = 0;
    let objects = 0;
    for (let i = 0; i < labelIds.length; i++) {
      const v = inst.data[i];
      if (v >= 1000) objects++;
      if ((v >= 1000 ? Math.floor(v / 1000) : v) !== labelIds[i]) bad++;
    }
    expect(bad).toBe(0);
    expect(objects).toBeGreaterThan(0);
  });
});

describe('renderStreet', () => {
  it('is deterministic and draws the classes a street needs', () => {
    const a = renderStreet(7, { width: 128, height: 64, egoVehicle: true });
    const b = renderStreet(7, { width: 128, height: 64, egoVehicle: true });
    expect(Buffer.compare(Buffer.from(a.rgb), Buffer.from(b.rgb))).toBe(0);
    const seen = new Set<number>();
    for (let s = 0; s < 10; s++) renderStreet(s, { width: 128, height: 64, egoVehicle: true }).cls.forEach((v) => seen.add(v));
    for (const c of [STREET.sky, STREET.building, STREET.road, STREET.sidewalk, STREET.vegetation, STREET.car, STREET.person, STREET.pole, STREET.ego]) expect(seen.has(c)).toBe(true);
    expect(cityscapesLabels(a).labelIds.length).toBe(128 * 64);
  });
});
