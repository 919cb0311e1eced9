import * as fs from 'fs';
import * as zlib from 'zlib';
import { DataError } from './errors';
import { decodeSoftLabels, encodeSoftLabels, readSoftLabels, softLabelPath, softLabelStride, withSoftLabels, writeSoftLabels } from './soft-labels';
import { arrayDataset, coordinateSample, makeTempDir, removeTempDir } from './testing';
import type { SegmentationSample } from './types';

describe('soft-label files', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir();
  });
  afterAll(() => removeTempDir(dir));

  it('round-trips probabilities within 8-bit quantisation', async () => {
    const data = Float32Array.from({ length: 4 * 5 * 3 }, (_, i) => (i % 3 === 0 ? 0.7 : 0.15) + (i % 7) * 0.001);
    const back = await decodeSoftLabels(encodeSoftLabels({ data, height: 4, width: 5, channels: 3 }), 'x.gplsoft');
    expect([back.height, back.width, back.channels]).toEqual([4, 5, 3]);
    for (let i = 0; i < data.length; i++) expect(Math.abs(back.data[i] - data[i])).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
  });

  it('writes the same bytes for the same map, and still reads files whose zlib stream came from node', async () => {
    const s = { data: Float32Array.from({ length: 8 * 9 * 4 }, (_, i) => ((i * 37) % 101) / 100), height: 8, width: 9, channels: 4 };
    const a = encodeSoftLabels(s);
    expect(Buffer.from(encodeSoftLabels({ ...s, data: Float32Array.from(s.data) })).equals(Buffer.from(a))).toBe(true);
    const q = Uint8Array.from(s.data, (v) => Math.round(v * 255));
    const byNode = Buffer.concat([Buffer.from(a.subarray(0, 24)), zlib.deflateSync(q, { level: 9 })]);
    expect(Array.from((await decodeSoftLabels(byNode, 'old.gplsoft')).data, (v) => Math.round(v * 255))).toEqual(Array.from(q));
  });

  it('attaches stored soft labels to samples by id', async () => {
    const { softLabels: _unused, ...rest } = coordinateSample(4, 6) as SegmentationSample;
    const s: SegmentationSample = { ...rest, id: 'img_01' };
    void _unused;
    await writeSoftLabels(dir, 'img_01', { data: new Float32Array(2 * 3 * 19).fill(1 / 19), height: 2, width: 3, channels: 19 });
    expect(fs.existsSync(softLabelPath(dir, 'img_01'))).toBe(true);
    const classNames = Array.from({ length: 19 }, (_, i) => `c${i}`);
    const ds = withSoftLabels(arrayDataset([s], { classNames }), dir);
    const got = await ds.get(0);
    expect([got.softLabels!.height, got.softLabels!.width, got.softLabels!.channels]).toEqual([2, 3, 19]);
    // 4×6 image, 2×3 map: stride 2, which transforms then keep exactly.
    expect(got.softLabels!.stride).toBe(2);
  });

  it('refuses, naming the file, soft labels with other channels than classes or of another size', async () => {
    const { softLabels: _unused, ...rest } = coordinateSample(4, 6) as SegmentationSample;
    void _unused;
    const s: SegmentationSample = { ...rest, id: 'img_02' };
    await writeSoftLabels(dir, 'img_02', { data: new Float32Array(2 * 3 * 19).fill(1 / 19), height: 2, width: 3, channels: 19 });
    await expect(withSoftLabels(arrayDataset([s]), dir).get(0)).rejects.toThrow(/img_02\.gplsoft: expected 3 channels .*received 19 channels/);
    await writeSoftLabels(dir, 'img_02', { data: new Float32Array(3 * 5 * 3).fill(1 / 3), height: 3, width: 5, channels: 3 });
    await expect(withSoftLabels(arrayDataset([s]), dir).get(0)).rejects.toThrow(/img_02\.gplsoft: expected soft labels of image img_02 \(6×4.*received 5×3/);
  });

  it('infers the output stride from round- or ceil-sized maps, and 1 otherwise', () => {
    expect(softLabelStride(128, 256, { height: 16, width: 32 })).toBe(8);
    expect(softLabelStride(130, 250, { height: 17, width: 32 })).toBe(8); // ceil, round
    expect(softLabelStride(68, 136, { height: 9, width: 17 })).toBe(8);
    expect(softLabelStride(128, 256, { height: 128, width: 256 })).toBe(1);
    expect(softLabelStride(128, 256, { height: 16, width: 64 })).toBe(1); // not one stride for both axes
  });

  it('names the file when one is missing or corrupt', async () => {
    await expect(readSoftLabels(dir, 'nope')).rejects.toThrow(/missing-file: .*nope\.gplsoft: expected teacher soft labels for 'nope'/);
    fs.writeFileSync(softLabelPath(dir, 'bad'), 'GPLSOFT1 but not really');
    await expect(readSoftLabels(dir, 'bad')).rejects.toBeInstanceOf(DataError);
    expect(() => softLabelPath(dir, '../x')).toThrow(RangeError);
  });
});
