import { createHash } from 'crypto';
import sharp from 'sharp';
import { decodePng, encodePng, readPngHeader } from './png';
import { vocColormap } from './palette';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

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
    const d16 = Uint16Array.from({ length: 64 * 48 }, (_, i) => (i * 977 + ((rnd() * 300) | 0)) % 65536);
    const file16 = await sharp(d16, { raw: { width: 64, height: 48, channels: 1 } }).toColourspace('grey16').png({ adaptiveFiltering: true }).toBuffer();
    const got = decodePng(file16);
    expect([got.bitDepth, got.colorType, got.data instanceof Uint16Array]).toEqual([16, 0, true]);
    expect(Array.from(got.data)).toEqual(Array.from(d16));
  });

  it('decodes interlaced 8-bit PNGs and refuses interlaced sub-byte ones with the fix', async () => {
    const raw = Buffer.from(Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 29) % 256));
    const file = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png({ progressive: true }).toBuffer();
    expect(readPngHeader(file).interlace).toBe(1);
    expect(Buffer.compare(Buffer.from(decodePng(file).data as Uint8Array), raw)).toBe(0);
    const idx = Buffer.from(Uint8Array.from({ length: w * h * 3 }, (_, i) => ((i / 3) | 0) % 2 ? 255 : 0));
    const two = await sharp(idx, { raw: { width: w, height: h, channels: 3 } }).png({ palette: true, colours: 2, progressive: true }).toBuffer();
    expect(() => decodePng(two, 'p.png')).toThrow(/p\.png: expected a complete PNG, received an interlaced 1-bit PNG \(re-save it without interlacing\)/);
  });

  it('refuses truncated, corrupt and non-PNG input with one message naming the source', () => {
    const file = encodePng({ width: w, height: h, channels: 1, bitDepth: 8, data: Uint8Array.from({ length: w * h }, (_, i) => i % 7) });
    const msg = (buf: Uint8Array) => {
      try {
        decodePng(buf, 'x.png');
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
        return (e as Error).message;
      }
      throw new Error('decoded');
    };
    expect(msg(file.subarray(0, file.length - 20))).toMatch(/^\[@gpl\/data\] decodePng: x\.png: expected a complete PNG, received a truncated PNG \(the file ends inside its IDAT chunk: \d+ of at least \d+ bytes\)\. Re-export/);
    expect(msg(file.subarray(0, file.length - 12))).toMatch(/received a truncated PNG \(\d+ bytes and no IEND chunk\)/);
    expect(msg(file.subarray(0, 20))).toMatch(/received a truncated PNG \(20 bytes end inside the header\)/);
    const flipped = Uint8Array.from(file);
    flipped[45] ^= 0xff; // inside the compressed data
    expect(msg(flipped)).toMatch(/received a corrupt PNG \(Error while decompressing the data: invalid/);
    const badCrc = Uint8Array.from(file);
    badCrc[30] ^= 0xff; // the IHDR chunk's CRC
    expect(msg(badCrc)).toMatch(/received a corrupt PNG \(CRC mismatch for chunk IHDR/);
    expect(msg(Uint8Array.of(1, 2, 3))).toMatch(/received a file without the PNG signature/);
    const empty = Uint8Array.from(file);
    empty.fill(0, 16, 20); // IHDR width
    expect(msg(empty)).toMatch(/received a corrupt PNG \(empty image 0×23\)/);
  });

  it('is byte-for-byte reproducible, and these bytes are pinned', () => {
    const data = Uint8Array.from({ length: 64 * 64 * 3 }, lcg(9)).map((v) => (v * 256) | 0);
    const a = encodePng({ width: 64, height: 64, channels: 3, bitDepth: 8, data });
    const b = encodePng({ width: 64, height: 64, channels: 3, bitDepth: 8, data: Uint8Array.from(data) });
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    // A label-like map: if this digest moves, a dependency changed the encoder's bytes, and the
    // mini datasets must be regenerated (npx nx run tools:generate-datasets).
    const label = Uint8Array.from({ length: 96 * 64 }, (_, i) => ((i % 96) >> 4) + 6 * ((i / 96 / 16) | 0));
    const png = encodePng({ width: 96, height: 64, channels: 1, bitDepth: 8, data: label, palette: vocColormap() });
    expect(createHash('sha256').update(png).digest('hex').slice(0, 16)).toBe('2ed2376eff43dff3');
  });

  it('checks its inputs', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 3, bitDepth: 8, data: new Uint8Array(5) })).toThrow(RangeError);
    expect(() => encodePng({ width: 2, height: 2, channels: 1, bitDepth: 16, data: new Uint8Array(4) })).toThrow(TypeError);
    expect(() => encodePng({ width: 2, height: 2, channels: 3, bitDepth: 8, data: new Uint8Array(12), palette: vocColormap() })).toThrow(/a palette image needs 1 channel/);
    expect(() => encodePng({ width: 0, height: 2, channels: 1, bitDepth: 8, data: new Uint8Array(0) })).toThrow(/positive integers, received 0×2/);
  });
});
