/**
 * Fixtures of the specs: a deterministic test image (the same formula as `pattern` in
 * tools/torch/sr_reference.py, which computed the reference numbers the specs store) and a
 * state dict with torchvision's VGG names and shapes (made-up values).
 */
import * as fs from 'fs';
import { VGG_PRESETS, type StateDict, type StateDictTensor, type VggPreset } from '@gpl/loss';
import { encodeSafetensors } from '@gpl/weights';
import type { RgbImage } from './data';

export function patternImage(height: number, width: number, seed: number): RgbImage {
  const data = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (y * 37 + x * 11 + c * 71 + ((x * y + seed) % 13) * 5) % 256;
    }
  }
  return { data, height, width, channels: 3 };
}

/**
 * torchvision's `vgg<n>().state_dict()` names and shapes of the features, each value a small
 * deterministic function of its flat index (weight ±0.01, bias 0.001·o), plus the classifier's
 * first layer, which the loss network ignores.
 */
export function fakeTorchvisionVgg(preset: VggPreset): StateDict {
  const dict = new Map<string, StateDictTensor>();
  const fill = (shape: number[], f: (i: number) => number): StateDictTensor => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = f(i);
    return { shape, data };
  };
  let index = 0;
  let cin = 3;
  VGG_PRESETS[preset].forEach((convs, block) => {
    const cout = [64, 128, 256, 512, 512][block];
    for (let k = 0; k < convs; k++) {
      dict.set(`features.${index}.weight`, fill([cout, cin, 3, 3], (i) => (((i * 7919) % 201) - 100) * 1e-4));
      dict.set(`features.${index}.bias`, fill([cout], (o) => 0.001 * o));
      cin = cout;
      index += 2;
    }
    index += 1;
  });
  dict.set('classifier.0.bias', fill([4096], () => 0));
  return dict;
}

/** Writes a state dict as a float32 safetensors file. */
export function writeSafetensorsFile(file: string, dict: StateDict): void {
  fs.writeFileSync(file, encodeSafetensors(dict));
}
