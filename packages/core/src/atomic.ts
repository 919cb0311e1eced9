/**
 * The one atomic file write of the workspace: the bytes go to a temporary name in the target's
 * folder, are flushed to disk, and the temporary file is renamed over the target, so a reader (or
 * a run killed mid-write) sees the old file or the new one, never a part. On failure the
 * temporary file is removed.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Minimal file-writing surface; tests substitute it to simulate a failure mid-write. */
export interface FileWriter {
  writeFile(file: string, data: Uint8Array | string): Promise<void>;
}

/** Writes and fsyncs with node's fs. */
export const syncedWriter: FileWriter = {
  async writeFile(file, data) {
    const handle = await fs.promises.open(file, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/** Writes `data` to `file` atomically, creating its folder. */
export async function writeFileAtomic(file: string, data: Uint8Array | string, writer: FileWriter = syncedWriter): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  await fs.promises.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    await writer.writeFile(tmp, data);
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}
