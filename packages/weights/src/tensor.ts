/**
 * Tensors as the readers return them: float32 values in row-major order, whatever the file held
 * (float16 and bfloat16 widened exactly, float64 rounded, integers converted), with the source
 * dtype kept for the import report.
 */

/** One tensor of a weight file. */
export interface WeightTensor {
  readonly name: string;
  /** The file's dtype: 'float32', 'float16', 'bfloat16', 'float64', 'int64', … */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Row-major values as float32. */
  readonly data: Float32Array;
}

/** Bytes per element of each dtype the readers convert. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
});

/** IEEE half → float (exact: every half is a float). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Element `i` of a little-endian buffer of `dtype` as a number. `view` spans the storage.
 */
function reader(view: DataView, dtype: string): (i: number) => number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  switch (dtype) {
    case 'float32':
      return (i) => view.getFloat32(4 * i, true);
    case 'float16':
      return (i) => halfToFloat(view.getUint16(2 * i, true));
    case 'bfloat16':
      return (i) => {
        u32[0] = view.getUint16(2 * i, true) << 16;
        return f32[0];
      };
    case 'float64':
      return (i) => view.getFloat64(8 * i, true);
    case 'int64':
      return (i) => Number(view.getBigInt64(8 * i, true));
    case 'int32':
      return (i) => view.getInt32(4 * i, true);
    case 'int16':
      return (i) => view.getInt16(2 * i, true);
    case 'int8':
      return (i) => view.getInt8(i);
    case 'uint8':
    case 'bool':
      return (i) => view.getUint8(i);
    default:
      throw new RangeError(`dtype '${dtype}' is not one the readers convert (${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
}

/**
 * Row-major float32 values of a strided view of `bytes` (elements of `dtype`): element
 * (i₀, …, iₖ) sits at `offset + Σ iⱼ·strideⱼ` elements.
 */
export function stridedToFloat32(bytes: Uint8Array, dtype: string, shape: readonly number[], stride: readonly number[], offset: number): Float32Array {
  const read = reader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), dtype);
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (n === 0) return out;
  const contiguous = stride.every((s, d) => s === shape.slice(d + 1).reduce((a, b) => a * b, 1) || shape[d] === 1);
  if (contiguous) {
    for (let i = 0; i < n; i++) out[i] = read(offset + i);
    return out;
  }
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = offset;
    for (let d = 0; d < shape.length; d++) at += index[d] * stride[d];
    out[i] = read(at);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
