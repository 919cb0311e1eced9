import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic, type FileWriter } from './atomic';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-atomic-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('creates the folder, writes the bytes and leaves no temporary file', async () => {
    const file = path.join(dir, 'sub', 'x.bin');
    await writeFileAtomic(file, Uint8Array.of(1, 2, 3));
    expect(Array.from(fs.readFileSync(file))).toEqual([1, 2, 3]);
    expect(fs.readdirSync(path.join(dir, 'sub'))).toEqual(['x.bin']);
  });

  it('keeps the old file and removes the temporary one when the write fails midway', async () => {
    const file = path.join(dir, 'keep.txt');
    await writeFileAtomic(file, 'old');
    const failing: FileWriter = {
      async writeFile(f, data) {
        fs.writeFileSync(f, String(data).slice(0, 2));
        throw new Error('disk full');
      },
    };
    await expect(writeFileAtomic(file, 'new content', failing)).rejects.toThrow('disk full');
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.keep'))).toEqual([]);
  });
});
