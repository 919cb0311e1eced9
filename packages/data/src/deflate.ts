/**
 * A deterministic zlib (RFC 1950/1951) compressor in plain TypeScript.
 *
 * Why not `zlib.deflateSync` or sharp: Node bundles Chromium's zlib and sharp bundles its own, and
 * both may pick CPU-specific match-finding code, so the same pixels can compress to different bytes
 * on different machines or versions. The mini datasets must regenerate byte for byte everywhere, so
 * the generator compresses with this: LZ77 over hash chains with one-step lazy matching, then one
 * dynamic-Huffman block per 32 Ki symbols. Decompression uses node's zlib (inflate is exact).
 */

// A module-local alias: global lookups (Math) are slow inside vm contexts such as Jest's.
const M = Math;

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

const WINDOW = 32768;
const MIN_MATCH = 3;
const MAX_MATCH = 258;
const HASH_BITS = 15;
const MAX_CHAIN = 96;
const NICE_LENGTH = 96;
const BLOCK_SYMBOLS = 32768;

/** Length code index (0..28) for a match length, via a 259-entry table. */
const LENGTH_CODE = new Uint8Array(MAX_MATCH + 1);
for (let c = 0; c < 29; c++) {
  const hi = c === 28 ? 258 : LENGTH_BASE[c] + (1 << LENGTH_EXTRA[c]) - 1;
  for (let l = LENGTH_BASE[c]; l <= hi && l <= MAX_MATCH; l++) LENGTH_CODE[l] = c;
}
LENGTH_CODE[258] = 28;

function distCode(d: number): number {
  let lo = 0;
  let hi = 29;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (DIST_BASE[mid] <= d) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

class BitWriter {
  private buf = new Uint8Array(1 << 16);
  private len = 0;
  private acc = 0;
  private nbits = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = new Uint8Array(M.max(this.buf.length * 2, this.len + extra));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Writes `n` (≤ 24) bits of `value`, least significant first. */
  bits(value: number, n: number): void {
    this.acc |= value << this.nbits;
    this.nbits += n;
    this.ensure(4);
    while (this.nbits >= 8) {
      this.buf[this.len++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.nbits -= 8;
    }
  }

  align(): void {
    if (this.nbits > 0) this.bits(0, 8 - this.nbits);
  }

  bytes(b: Uint8Array): void {
    this.align();
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  result(): Uint8Array {
    this.align();
    return this.buf.slice(0, this.len);
  }
}

/**
 * Code lengths of a Huffman code over `freqs`, each at most `limit` bits. Ties break by symbol
 * index, so the result depends only on the frequencies. Too-deep trees are rebuilt from flattened
 * frequencies (halved, floor 1) until they fit: simple, deterministic, near-optimal in practice.
 */
function codeLengths(freqs: Uint32Array, limit: number): Uint8Array {
  const n = freqs.length;
  const f = Uint32Array.from(freqs);
  for (;;) {
    const lengths = new Uint8Array(n);
    const leaves: number[] = [];
    for (let s = 0; s < n; s++) if (f[s] > 0) leaves.push(s);
    if (leaves.length === 1) {
      lengths[leaves[0]] = 1;
      return lengths;
    }
    leaves.sort((a, b) => f[a] - f[b] || a - b);
    // Two-queue construction: leaves (sorted) and internal nodes (created in non-decreasing weight).
    const weight: number[] = leaves.map((s) => f[s]);
    const parent: number[] = leaves.map(() => -1);
    const internal: number[] = [];
    let li = 0;
    let ii = 0;
    const take = (): number => {
      if (li < leaves.length && (ii >= internal.length || weight[li] <= weight[internal[ii]])) return li++;
      return internal[ii++];
    };
    for (let k = 0; k < leaves.length - 1; k++) {
      const a = take();
      const b = take();
      const node = weight.length;
      weight.push(weight[a] + weight[b]);
      parent.push(-1);
      parent[a] = node;
      parent[b] = node;
      internal.push(node);
    }
    const depth = new Array<number>(weight.length).fill(0);
    for (let node = weight.length - 2; node >= 0; node--) depth[node] = depth[parent[node]] + 1;
    let max = 0;
    for (let k = 0; k < leaves.length; k++) {
      lengths[leaves[k]] = depth[k];
      max = M.max(max, depth[k]);
    }
    if (max <= limit) return lengths;
    for (let s = 0; s < n; s++) if (f[s] > 0) f[s] = M.max(1, f[s] >>> 1);
  }
}

/** Canonical codes for `lengths`, bit-reversed so they can be written LSB first. */
function canonicalCodes(lengths: Uint8Array): Uint16Array {
  const count = new Uint16Array(16);
  for (const l of lengths) if (l) count[l]++;
  const next = new Uint16Array(16);
  let code = 0;
  for (let b = 1; b < 16; b++) {
    code = (code + count[b - 1]) << 1;
    next[b] = code;
  }
  const codes = new Uint16Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s];
    if (!l) continue;
    let c = next[l]++;
    let r = 0;
    for (let i = 0; i < l; i++) {
      r = (r << 1) | (c & 1);
      c >>= 1;
    }
    codes[s] = r;
  }
  return codes;
}

/** Run-length encodes the concatenated code lengths with symbols 16/17/18. */
function rleLengths(all: Uint8Array): { syms: number[]; extra: number[] } {
  const syms: number[] = [];
  const extra: number[] = [];
  let i = 0;
  while (i < all.length) {
    const v = all[i];
    let run = 1;
    while (i + run < all.length && all[i + run] === v) run++;
    if (v === 0 && run >= 3) {
      const r = M.min(run, 138);
      if (r >= 11) {
        syms.push(18);
        extra.push(r - 11);
      } else {
        syms.push(17);
        extra.push(r - 3);
      }
      i += r;
    } else if (v !== 0 && run >= 4) {
      syms.push(v);
      extra.push(0);
      const r = M.min(run - 1, 6);
      syms.push(16);
      extra.push(r - 3);
      i += 1 + r;
    } else {
      syms.push(v);
      extra.push(0);
      i += 1;
    }
  }
  return { syms, extra };
}

/**
 * Symbols of one block: literal bytes (< 256) or matches encoded as 256 + length in `syms` with
 * the distance in `dists` at the same position.
 */
function writeBlock(w: BitWriter, syms: Uint16Array, dists: Uint16Array, n: number, final: boolean): void {
  const litFreq = new Uint32Array(286);
  const distFreq = new Uint32Array(30);
  for (let k = 0; k < n; k++) {
    const s = syms[k];
    if (s < 256) litFreq[s]++;
    else {
      litFreq[257 + LENGTH_CODE[s - 256]]++;
      distFreq[distCode(dists[k])]++;
    }
  }
  litFreq[256] = 1;
  // At least two used symbols per alphabet keeps every decoder happy (complete codes).
  if (litFreq[0] === 0) litFreq[0] = 1;
  if (distFreq[0] === 0) distFreq[0] = 1;
  if (distFreq[1] === 0) distFreq[1] = 1;
  const litLen = codeLengths(litFreq, 15);
  const distLen = codeLengths(distFreq, 15);
  const litCodes = canonicalCodes(litLen);
  const distCodes = canonicalCodes(distLen);
  let hlit = 286;
  while (hlit > 257 && litLen[hlit - 1] === 0) hlit--;
  let hdist = 30;
  while (hdist > 1 && distLen[hdist - 1] === 0) hdist--;
  const all = new Uint8Array(hlit + hdist);
  all.set(litLen.subarray(0, hlit), 0);
  all.set(distLen.subarray(0, hdist), hlit);
  const rle = rleLengths(all);
  const clFreq = new Uint32Array(19);
  for (const s of rle.syms) clFreq[s]++;
  const clLen = codeLengths(clFreq, 7);
  const clCodes = canonicalCodes(clLen);
  let hclen = 19;
  while (hclen > 4 && clLen[CODE_LENGTH_ORDER[hclen - 1]] === 0) hclen--;

  w.bits(final ? 1 : 0, 1);
  w.bits(2, 2);
  w.bits(hlit - 257, 5);
  w.bits(hdist - 1, 5);
  w.bits(hclen - 4, 4);
  for (let k = 0; k < hclen; k++) w.bits(clLen[CODE_LENGTH_ORDER[k]], 3);
  for (let k = 0; k < rle.syms.length; k++) {
    const s = rle.syms[k];
    w.bits(clCodes[s], clLen[s]);
    if (s === 16) w.bits(rle.extra[k], 2);
    else if (s === 17) w.bits(rle.extra[k], 3);
    else if (s === 18) w.bits(rle.extra[k], 7);
  }
  for (let k = 0; k < n; k++) {
    const s = syms[k];
    if (s < 256) {
      w.bits(litCodes[s], litLen[s]);
      continue;
    }
    const len = s - 256;
    const lc = LENGTH_CODE[len];
    w.bits(litCodes[257 + lc], litLen[257 + lc]);
    if (LENGTH_EXTRA[lc]) w.bits(len - LENGTH_BASE[lc], LENGTH_EXTRA[lc]);
    const d = dists[k];
    const dc = distCode(d);
    w.bits(distCodes[dc], distLen[dc]);
    if (DIST_EXTRA[dc]) w.bits(d - DIST_BASE[dc], DIST_EXTRA[dc]);
  }
  w.bits(litCodes[256], litLen[256]);
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; ) {
    const end = M.min(data.length, i + 5552);
    for (; i < end; i++) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Compresses `data` into a zlib stream; the output depends only on the input bytes. */
export function deflateDeterministic(data: Uint8Array): Uint8Array {
  const w = new BitWriter();
  w.bits(0x78, 8);
  w.bits(0x9c, 8);
  const n = data.length;
  if (n === 0) {
    // One empty final fixed block: BFINAL=1, BTYPE=01, end-of-block (7 zero bits).
    w.bits(0b011, 3);
    w.bits(0, 7);
  } else {
    const head = new Int32Array(1 << HASH_BITS).fill(-1);
    const prev = new Int32Array(n).fill(-1);
    const hash = (i: number): number =>
      (((data[i] << 10) ^ (data[i + 1] << 5) ^ data[i + 2]) * 0x9e37) & ((1 << HASH_BITS) - 1);
    const insert = (i: number): void => {
      if (i + MIN_MATCH > n) return;
      const h = hash(i);
      prev[i] = head[h];
      head[h] = i;
    };
    const longest = (i: number): { len: number; dist: number } => {
      let best = 0;
      let bestDist = 0;
      if (i + MIN_MATCH > n) return { len: 0, dist: 0 };
      const maxLen = M.min(MAX_MATCH, n - i);
      let cand = head[hash(i)];
      let chain = MAX_CHAIN;
      while (cand >= 0 && i - cand <= WINDOW && chain-- > 0) {
        if (data[cand + best] === data[i + best]) {
          let l = 0;
          while (l < maxLen && data[cand + l] === data[i + l]) l++;
          if (l > best) {
            best = l;
            bestDist = i - cand;
            if (l >= NICE_LENGTH || l === maxLen) break;
          }
        }
        cand = prev[cand];
      }
      return best >= MIN_MATCH ? { len: best, dist: bestDist } : { len: 0, dist: 0 };
    };

    const syms = new Uint16Array(BLOCK_SYMBOLS);
    const dists = new Uint16Array(BLOCK_SYMBOLS);
    let count = 0;
    const flush = (final: boolean): void => {
      writeBlock(w, syms, dists, count, final);
      count = 0;
    };
    let i = 0;
    let pending = longest(i);
    while (i < n) {
      let m = pending;
      insert(i);
      if (m.len >= MIN_MATCH && m.len < NICE_LENGTH && i + 1 < n) {
        const next = longest(i + 1);
        if (next.len > m.len) {
          // Lazy matching: a longer match starts one byte later, so emit this byte as a literal.
          syms[count] = data[i];
          dists[count++] = 0;
          i += 1;
          pending = next;
          if (count === BLOCK_SYMBOLS) flush(false);
          continue;
        }
      }
      if (m.len >= MIN_MATCH) {
        syms[count] = 256 + m.len;
        dists[count++] = m.dist;
        for (let k = 1; k < m.len; k++) insert(i + k);
        i += m.len;
      } else {
        syms[count] = data[i];
        dists[count++] = 0;
        i += 1;
      }
      if (count === BLOCK_SYMBOLS && i < n) flush(false);
      m = { len: 0, dist: 0 };
      pending = i < n ? longest(i) : m;
    }
    flush(true);
  }
  const out = w.result();
  const a = adler32(data);
  const res = new Uint8Array(out.length + 4);
  res.set(out);
  res[out.length] = a >>> 24;
  res[out.length + 1] = (a >>> 16) & 0xff;
  res[out.length + 2] = (a >>> 8) & 0xff;
  res[out.length + 3] = a & 0xff;
  return res;
}
