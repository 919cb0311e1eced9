import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DATASETS_DIR } from '../paths';
import { openNyuDepthV2 } from '@gpl/nyudv2';
import { generateNyuDv2Mini } from './indoor';

/** Every file under `dir`, relative, sorted. */
function listFiles(dir: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

describe('nyudv2-mini generator', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-nyu-gen-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('regenerates the committed dataset byte for byte', async () => {
    await generateNyuDv2Mini(tmp);
    const committed = path.join(DATASETS_DIR, 'nyudv2-mini');
    const fresh = path.join(tmp, 'nyudv2-mini');
    const files = listFiles(committed);
    expect(listFiles(fresh)).toEqual(files);
    expect(files.filter((f) => f.endsWith('.jpg'))).toHaveLength(40);
    expect(files.filter((f) => f.endsWith('_colors.png'))).toHaveLength(12);
    const differing = files.filter((f) => !fs.readFileSync(path.join(committed, f)).equals(fs.readFileSync(path.join(fresh, f))));
    expect(differing).toEqual([]);
    // no temporary or staging files are left behind
    expect(fs.readdirSync(tmp)).toEqual(['nyudv2-mini']);
  });

  it('depth comes from a pinhole camera looking at planes: inverse depth is locally affine almost everywhere', async () => {
    // For a plane n·X = c seen through a pinhole, 1/z = n·((u − cx)/fx, (v − cy)/fy, 1)/c is affine in
    // (u, v), so its second differences vanish except at edges and on the few spheres.
    const ds = await openNyuDepthV2({ root: path.join(DATASETS_DIR, 'nyudv2-mini'), split: 'test' });
    for (let i = 0; i < ds.length; i++) {
      const { data: d, width: W, height: H } = (await ds.get(i)).depth;
      let n = 0;
      let flat = 0;
      for (let y = 1; y < H - 1; y++) {
        for (let x = 1; x < W - 1; x++) {
          const [c, l, r, u, b] = [d[y * W + x], d[y * W + x - 1], d[y * W + x + 1], d[(y - 1) * W + x], d[(y + 1) * W + x]];
          if (!c || !l || !r || !u || !b) continue;
          n++;
          const tol = (4 * 0.0005) / (c * c); // 1 mm quantisation of the 16-bit maps
          if (Math.abs(1 / l - 2 / c + 1 / r) < tol && Math.abs(1 / u - 2 / c + 1 / b) < tol) flat++;
        }
      }
      expect([i, flat / n > 0.8]).toEqual([i, true]);
    }
  });
});
