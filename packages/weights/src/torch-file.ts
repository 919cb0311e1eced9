/**
 * `torch.save` files (PyTorch ≥ 1.6, the default since): a zip archive `<name>/data.pkl` (the
 * pickled object, storages as persistent ids) beside `<name>/data/<key>` (each storage's raw
 * little-endian bytes). The zip is read by fflate; the pickle by the restricted reader in
 * `pickle.ts`, which builds nothing but containers and tensors.
 */
import { unzipSync } from 'fflate';
import { describe, isTensorRef, readPickle, PickleError, PickleGlobal, type PickleValue, type StorageRef, type TensorRef } from './pickle';
import { DTYPE_BYTES, stridedToFloat32, type WeightTensor } from './tensor';

/** torch storage classes → dtype. */
const STORAGE_DTYPES: Readonly<Record<string, string>> = Object.freeze({
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
});

/** Whether `bytes` start like a zip archive. */
export const isZip = (bytes: Uint8Array) => bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

/** The legacy (pre-1.6) `torch.save` stream: a pickled magic number first. */
export const isLegacyTorch = (bytes: Uint8Array) => bytes.length > 2 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a;

/** The object saved in a torch zip archive, tensors as `TensorRef`s, and a function that reads a tensor's values. */
export function readTorchZip(bytes: Uint8Array): { root: PickleValue; materialize: (t: TensorRef, name: string) => WeightTensor } {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new RangeError(`the zip archive cannot be read (${(e as Error).message}): the file is truncated or damaged`);
  }
  const pkl = Object.keys(files).find((f) => f.endsWith('/data.pkl') || f === 'data.pkl');
  if (!pkl) throw new RangeError(`the zip archive has no data.pkl (entries: ${Object.keys(files).slice(0, 5).join(', ')}…): not a torch.save file`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const storages = new Map<string, StorageRef>();
  const root = readPickle(files[pkl], (pid) => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new PickleError(`persistent id ${describe(pid)} is not a torch storage`);
    const [, type, key, location, numel] = pid;
    if (!(type instanceof PickleGlobal)) throw new PickleError(`storage type ${describe(type ?? null)} is not a torch storage class`);
    const ref: StorageRef = { kind: 'storage', type: type.name.replace(/^torch\./, ''), key: String(key), location: String(location), numel: Number(numel) };
    storages.set(ref.key, ref);
    return ref;
  });
  const materialize = (t: TensorRef, name: string): WeightTensor => {
    const dtype = STORAGE_DTYPES[t.storage.type];
    if (!dtype) throw new RangeError(`tensor '${name}': storage type ${t.storage.type} is not one of ${Object.keys(STORAGE_DTYPES).join(', ')}`);
    const data = files[`${prefix}data/${t.storage.key}`];
    if (!data) throw new RangeError(`tensor '${name}': the archive lacks its storage ${prefix}data/${t.storage.key}`);
    const bytesNeeded = t.storage.numel * DTYPE_BYTES[dtype];
    if (data.length < bytesNeeded) throw new RangeError(`tensor '${name}': storage ${t.storage.key} holds ${data.length} bytes, ${bytesNeeded} expected: the file is truncated`);
    const last = t.offset + t.shape.reduce((a, s, d) => a + (s - 1) * t.stride[d], 0);
    if (t.shape.some((s) => s === 0) === false && last >= t.storage.numel) throw new RangeError(`tensor '${name}': its view reaches element ${last} of a ${t.storage.numel}-element storage`);
    return { name, dtype, shape: t.shape, data: stridedToFloat32(data, dtype, t.shape, t.stride, t.offset) };
  };
  return { root, materialize };
}

export { isTensorRef };
