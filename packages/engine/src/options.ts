/**
 * Small shared pieces of a task's option handling and model loading: one message shape for a bad
 * option, and rebuilding a network from a checkpoint without leaking it when the weights do not fit.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { restoreCheckpoint } from '@gpl/core';

/**
 * A thrower of `[task] option 'field': expected …, received …` (non-finite numbers shown as such,
 * everything else as JSON), as a task's config validation uses it.
 */
export function optionFailure(task: string) {
  return (field: string, expected: string, value: unknown, Err: typeof RangeError = RangeError): never => {
    throw new Err(`[${task}] option '${field}': expected ${expected}, received ${typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value)}.`);
  };
}

/** Builds a model and restores a checkpoint folder's weights into it; the model is disposed if that fails. */
export async function restoreModel(dir: string, build: () => tfl.LayersModel): Promise<tfl.LayersModel> {
  const model = build();
  try {
    await restoreCheckpoint(dir, { model });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
