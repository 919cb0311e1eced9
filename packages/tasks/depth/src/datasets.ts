/**
 * The dataset formats a depth run can train on, by name: NYU Depth v2 (its package's descriptor)
 * and custom folders with `"task": "depth"` in classes.json (`@gpl/data`'s `openCustomFolder`),
 * which train with VNL's NYUDv2 recipe.
 */
import { openCustomFolder, sameSplitNames, type Dataset, type DatasetDescriptor, type DepthSample } from '@gpl/data';
import { NYU_INTRINSICS, nyuDepthV2Dataset, nyuVnlRecipe, scaleIntrinsics, type CameraIntrinsics, type DepthRecipe } from '@gpl/nyudv2';

/** Custom folders holding a depth task (16-bit depth PNGs, `depthScale` units per metre). */
export const customDepthDataset: DatasetDescriptor<DepthSample, DepthRecipe> = Object.freeze({
  name: 'custom',
  async open(root: string, split: string): Promise<Dataset<DepthSample>> {
    const ds = await openCustomFolder({ root, split });
    if (ds.classNames.length > 0) {
      throw new RangeError(`[depth] custom dataset ${root}: classes.json describes a segmentation task; depth needs "task": "depth" and depth/<stem>.png maps.`);
    }
    return ds as unknown as Dataset<DepthSample>;
  },
  splitName: sameSplitNames,
  augment: nyuVnlRecipe,
});

export const DEPTH_DATASETS = Object.freeze({
  nyudv2: nyuDepthV2Dataset,
  custom: customDepthDataset,
} satisfies Record<string, DatasetDescriptor<DepthSample, DepthRecipe>>);

export type DepthDatasetName = keyof typeof DEPTH_DATASETS;
export const DEPTH_DATASET_NAMES: readonly DepthDatasetName[] = Object.freeze(Object.keys(DEPTH_DATASETS) as DepthDatasetName[]);

/** The descriptor of a dataset name. */
export function depthDataset(name: string): DatasetDescriptor<DepthSample, DepthRecipe> {
  const d = (DEPTH_DATASETS as Record<string, DatasetDescriptor<DepthSample, DepthRecipe> | undefined>)[name];
  if (!d) throw new RangeError(`[depth] option 'dataset': expected one of ${DEPTH_DATASET_NAMES.join(', ')}, received '${name}'.`);
  return d;
}

/**
 * The camera of a split's images at `width`×`height`: the dataset's own intrinsics when it has
 * them (NYU), else NYU's camera scaled to the image size (a custom folder carries no intrinsics).
 */
export function cameraOf(ds: Dataset<DepthSample>, width: number, height: number): { camera: CameraIntrinsics; assumed: boolean } {
  const withCamera = ds as Dataset<DepthSample> & { intrinsics?: (w: number, h: number) => CameraIntrinsics };
  if (typeof withCamera.intrinsics === 'function') return { camera: withCamera.intrinsics(width, height), assumed: false };
  return { camera: scaleIntrinsics(NYU_INTRINSICS, width, height), assumed: true };
}
