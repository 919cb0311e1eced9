import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DATASETS_DIR } from '../paths';
import { generateCocoMini } from './coco';

/** Every file under `dir`, relative, sorted. */
function listFiles(dir: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

describe('coco-mini generator', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-coco-gen-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('regenerates the committed dataset byte for byte', async () => {
    await generateCocoMini(tmp);
    const committed = path.join(DATASETS_DIR, 'coco-mini');
    const fresh = path.join(tmp, 'coco-mini');
    const files = listFiles(committed);
    expect(listFiles(fresh)).toEqual(files);
    expect(files.filter((f) => f.startsWith('train2017/'))).toHaveLength(40);
    expect(files.filter((f) => f.startsWith('val2017/'))).toHaveLength(12);
    const differing = files.filter((f) => !fs.readFileSync(path.join(committed, f)).equals(fs.readFileSync(path.join(fresh, f))));
    expect(differing).toEqual([]);
    // no temporary or staging files are left behind
    expect(fs.readdirSync(tmp)).toEqual(['coco-mini']);
  });
});
