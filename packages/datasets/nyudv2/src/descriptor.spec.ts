import * as fs from 'fs';
import * as path from 'path';
import { isMiniRoot, recipeFor } from '@gpl/data';
import { nyuMiniRecipe, nyuVnlRecipe } from './augment';
import { nyuDepthV2Dataset } from './descriptor';

const MINI = path.resolve(__dirname, '../../../../datasets/nyudv2-mini');

describe('nyuDepthV2Dataset descriptor', () => {
  it('points at the embedded mini dataset and picks the mini recipe there, VNL elsewhere', () => {
    expect(nyuDepthV2Dataset.name).toBe('nyudv2');
    expect(nyuDepthV2Dataset.miniRoot).toBe(MINI);
    expect(fs.existsSync(path.join(MINI, 'data', 'nyu2_train.csv'))).toBe(true);
    expect(isMiniRoot(nyuDepthV2Dataset, MINI)).toBe(true);
    expect(recipeFor(nyuDepthV2Dataset, MINI)).toBe(nyuMiniRecipe);
    expect(recipeFor(nyuDepthV2Dataset, '/data/nyu')).toBe(nyuVnlRecipe);
  });

  it('opens train and val (= the test split) by their DenseDepth names', async () => {
    expect([nyuDepthV2Dataset.splitName('train'), nyuDepthV2Dataset.splitName('val'), nyuDepthV2Dataset.splitName('test')]).toEqual(['train', 'test', 'test']);
    const val = await nyuDepthV2Dataset.open(MINI, nyuDepthV2Dataset.splitName('val'));
    expect([val.name, val.length]).toEqual(['nyudv2/test', 12]);
    await expect(nyuDepthV2Dataset.open(MINI, 'extra')).rejects.toThrow("split must be 'train' or 'test'");
  });
});
