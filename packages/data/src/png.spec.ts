import * as zlib from 'zlib';
import sharp from 'sharp';
import { deflateDeterministic } from './deflate';
import { decodePng, encodePng, readPngHeader } from './png';
import { vocColormap } from './palette';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

describe('deflateDeterministic', () => {
  it.each([
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(7)],
    ['runs', Uint8Array.from({ length: 5000 }, (_, i) => (i >> 9) & 3)],
    ['random', Uint8Array.from({ length: 70000 }, lcg(1)).map((v) => (v * 256) | 0)],
    ['mixed, many blocks', Uint8Array.from({ length: 300000 }, (_, i) => (i % 700 < 350 ? (i * 31) & 7 : (i >> 3) & 255))],
  ])('round-trips through zlib inflate: %s', (_name, data) => {
    const z = deflateDeterministic(data);
    expect(Buffer.compare(zlib.inflateSync(Buffer.from(z)), Buffer.from(data))).toBe(0);
    expect(Buffer.compare(Buffer.from(deflateDeterministic(data)), Buffer.from(z))).toBe(0);
  });

  it('compresses label-like data about as well as zlib level 6', () => {
    // A 256×256 map of blobs with noisy edges, like a segmentation label.
    const rnd = lcg(5);
    const data = Uint8Array.from({ length: 65536 }, (_, i) => {
      const x = i % 256;
      const y = i >> 8;
      return ((x + (rnd() < 0.05 ? 1 : 0)) >> 5) * 3 + ((y >> 6) % 3);
    });
    expect(deflateDeterministic(data).length).toBeLessThan(zlib.deflateSync(data, { level: 6 }).length * 1.15 + 64);
  });
});

describe('PNG encode / decode', () => {
  const w = 37;
  const h = 23;

  it('writes RGB, grey and 16-bit PNGs that sharp decodes to the same samples', async () => {
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 7) % 251);
    const a = await sharp(encodePng({ width: w, height: h, channels: 3, bitDepth: 8, data: rgb })).raw().toBuffer();
    expect(Buffer.compare(a, Buffer.from(rgb))).toBe(0);
    const grey = Uint8Array.from({ length: w * h }, (_, i) => i % 256);
    const g = await sharp(encodePng({ width: w, height: h, channels: 1, bitDepth: 8, data: grey })).toColourspace('b-w').raw().toBuffer();
    expect(Buffer.compare(g, Buffer.from(grey))).toBe(0);
    const d16 = Uint16Array.from({ length: w * h }, (_, i) => (i * 61) % 65536);
    const r16 = await sharp(encodePng({ width: w, height: h, channels: 1, bitDepth: 16, data: d16 })).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer();
    expect(Array.from(new Uint16Array(r16.buffer, r16.byteOffset, w * h))).toEqual(Array.from(d16));
  });

  it('decodes its own output for every channel layout', () => {
    for (const channels of [1, 2, 3, 4] as const) {
      const data = Uint8Array.from({ length: w * h * channels }, (_, i) => (i * 13) % 256);
      const png = decodePng(encodePng({ width: w, height: h, channels, bitDepth: 8, data }));
      expect(png.channels).toBe(channels);
      expect(Array.from(png.data)).toEqual(Array.from(data));
    }
    const d16 = Uint16Array.from({ length: w * h }, (_, i) => i * 71);
    expect(Array.from(decodePng(encodePng({ width: w, height: h, channels: 1, bitDepth: 16, data: d16 })).data)).toEqual(Array.from(d16));
  });

  it('keeps palette indices (including 255) instead of colours', async () => {
    const idx = Uint8Array.from({ length: w * h }, (_, i) => (i % 5 === 0 ? 255 : i % 21));
    const file = encodePng({ width: w, height: h, channels: 1, bitDepth: 8, data: idx, palette: vocColormap(256) });
    expect(readPngHeader(file).colorType).toBe(3);
    const png = decodePng(file);
    expect(Array.from(png.data)).toEqual(Array.from(idx));
    expect(png.palette![15]).toEqual([192, 128, 128]);
    // sharp expands the same file to colours: the reason labels never go through sharp.
    const rgb = await sharp(file).raw().toBuffer();
    expect([rgb[0], rgb[1], rgb[2]]).toEqual([224, 224, 192]);
  });

  it.each([1, 2, 4])('unpacks %i-bit palette PNGs written by sharp, matching sharp’s colours', async (bits) => {
    const colours = 1 << bits;
    const raw = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      const k = (i * 5 + Math.floor(i / w)) % colours;
      raw[3 * i] = (k * 37) % 256;
      raw[3 * i + 1] = (k * 91) % 256;
      raw[3 * i + 2] = 255 - ((k * 53) % 256);
    }
    const file = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png({ palette: true, colours, dither: 0 }).toBuffer();
    const png = decodePng(file);
    expect(png.colorType).toBe(3);
    expect(png.bitDepth).toBe(bits);
    const expanded = await sharp(file).removeAlpha().raw().toBuffer();
    for (let i = 0; i < w * h; i++) {
      expect(png.palette![png.data[i]]).toEqual([expanded[3 * i], expanded[3 * i + 1], expanded[3 * i + 2]]);
    }
  });

  it('undoes all five row filters (sharp-written RGB with adaptive filtering)', async () => {
    const rnd = lcg(3);
    const raw = Buffer.from(Uint8Array.from({ length: 64 * 48 * 3 }, (_, i) => ((i % 192) + rnd() * 40) | 0));
    const file = await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).png({ adaptiveFiltering: true, compressionLevel: 9 }).toBuffer();
    expect(Buffer.compare(Buffer.from(decodePng(file).data as Uint8Array), raw)).toBe(0);
  });

  it('rejects truncated and corrupted files with a reason', () => {
    const file = encodePng({ width: w, height: h, channels: 1, bitDepth: 8, data: new Uint8Array(w * h).fill(3) });
    expect(() => decodePng(file.subarray(0, file.length - 20))).toThrow(/truncated/);
    const bad = Uint8Array.from(file);
    bad[40] ^= 0xff;
    expect(() => decodePng(bad)).toThrow(/CRC mismatch/);
    expect(() => decodePng(Uint8Array.of(1, 2, 3))).toThrow(/signature/);
  });

  it('is byte-for-byte reproducible', () => {
    const data = Uint8Array.from({ length: 64 * 64 * 3 }, lcg(9)).map((v) => (v * 256) | 0);
    const a = encodePng({ width: 64, height: 64, channels: 3, bitDepth: 8, data });
    const b = encodePng({ width: 64, height: 64, channels: 3, bitDepth: 8, data: Uint8Array.from(data) });
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
  });

  it('checks its inputs', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 3, bitDepth: 8, data: new Uint8Array(5) })).toThrow(RangeError);
    expect(() => encodePng({ width: 2, height: 2, channels: 1, bitDepth: 16, data: new Uint8Array(4) })).toThrow(TypeError);
  });
});
