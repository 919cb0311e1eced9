export { readWeightFile, WeightFileError, STATE_DICT_KEYS, type WeightFile } from './read';
export { readSafetensors, isSafetensors, encodeSafetensors } from './safetensors';
export { readTorchZip, isZip, isLegacyTorch } from './torch-file';
export { readPickle, Opaque, PickleError, PickleGlobal, type PickleValue, type StorageRef, type TensorRef } from './pickle';
export { halfToFloat, stridedToFloat32, DTYPE_BYTES, type WeightTensor } from './tensor';
