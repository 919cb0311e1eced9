/**
 * The safetensors format (timm, Hugging Face): an 8-byte little-endian header length, a JSON
 * header `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": {…} }`, then the
 * tensors' bytes, row-major and little-endian, at offsets relative to the end of the header.
 * Written here because the format is this small and the npm packages for it wrap a native build.
 */
import { DTYPE_BYTES, stridedToFloat32, type WeightTensor } from './tensor';

/** safetensors dtype names → the readers' names. */
const DTYPES: Readonly<Record<string, string>> = Object.freeze({
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
});

/** Whether `bytes` look like a safetensors file (a plausible header length followed by '{'). */
export function isSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return n > 1 && 8 + n <= bytes.length && bytes[8] === 0x7b;
}

/** Parsed tensors and the header's `__metadata__`. Throws a RangeError describing the first problem (the caller names the file). */
export function readSafetensors(bytes: Uint8Array): { tensors: Map<string, WeightTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new RangeError(`${bytes.length} bytes is shorter than the 8-byte header length`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length) throw new RangeError(`the header claims ${n} bytes but the file has ${bytes.length - 8} after the length: the file is truncated`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new RangeError(`the header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new RangeError('the header is not a JSON object');
  const data = bytes.subarray(8 + n);
  const tensors = new Map<string, WeightTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof e?.dtype === 'string' ? DTYPES[e.dtype] : undefined;
    if (!dtype) throw new RangeError(`tensor '${name}': dtype ${JSON.stringify(e?.dtype)} is not one of ${Object.keys(DTYPES).join(', ')}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new RangeError(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of sizes`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
      throw new RangeError(`tensor '${name}': data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== numel * DTYPE_BYTES[dtype]) throw new RangeError(`tensor '${name}': ${end - begin} bytes for ${numel} ${dtype} values`);
    if (end > data.length) throw new RangeError(`tensor '${name}' ends at byte ${end} of ${data.length}: the file is truncated`);
    const dims = shape as number[];
    const stride = dims.map((_, d) => dims.slice(d + 1).reduce((a, b) => a * b, 1));
    tensors.set(name, { name, dtype, shape: dims, data: stridedToFloat32(data.subarray(begin, end), dtype, dims, stride, 0) });
  }
  return { tensors, metadata };
}

/**
 * float32 tensors (names → shape and row-major values, PyTorch's layout) as safetensors bytes, in
 * the map's order, with string `metadata` (e.g. `{ format: 'pt' }`) — for exporting weights and
 * for writing test files that `readSafetensors` and the `safetensors` Python package both read.
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>, metadata: Readonly<Record<string, string>> = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new RangeError(`tensor '${name}': shape [${t.shape}] holds ${count} values, the data has ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  // Float32Array's bytes are little-endian on every platform Node runs on.
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
