import { CategoryMap, COCO_CATEGORIES, COCO_UNUSED_IDS } from './categories';

describe('COCO categories (REFERENCE.md §8)', () => {
  it('80 ids: 1..90 without 12, 26, 29, 30, 45, 66, 68, 69, 71, 83', () => {
    expect(COCO_UNUSED_IDS).toEqual([12, 26, 29, 30, 45, 66, 68, 69, 71, 83]);
    const expected = Array.from({ length: 90 }, (_, i) => i + 1).filter((id) => !COCO_UNUSED_IDS.includes(id));
    expect(COCO_CATEGORIES.map((c) => c.id)).toEqual(expected);
    expect(COCO_CATEGORIES).toHaveLength(80);
    expect(new Set(COCO_CATEGORIES.map((c) => c.name)).size).toBe(80);
  });

  it('contiguous indices follow increasing ids', () => {
    const map = CategoryMap.coco();
    expect(map.size).toBe(80);
    const spot: [number, number, string][] = [
      [1, 0, 'person'],
      [11, 10, 'fire hydrant'],
      [13, 11, 'stop sign'],
      [27, 24, 'backpack'],
      [44, 39, 'bottle'],
      [46, 40, 'wine glass'],
      [67, 60, 'dining table'],
      [70, 61, 'toilet'],
      [72, 62, 'tv'],
      [84, 73, 'book'],
      [90, 79, 'toothbrush'],
    ];
    for (const [id, index, name] of spot) {
      expect([id, map.indexOf(id), map.names[index], map.idOf(index)]).toEqual([id, index, name, id]);
    }
    for (const id of [0, 12, 83, 91]) expect(map.indexOf(id)).toBeUndefined();
  });

  it('a file with a subset of ids maps them to 0..K−1 sorted by id', () => {
    const map = new CategoryMap([
      { id: 72, name: 'tv', supercategory: 'electronic' },
      { id: 1, name: 'person', supercategory: 'person' },
      { id: 37, name: 'sports ball', supercategory: 'sports' },
    ]);
    expect(map.names).toEqual(['person', 'sports ball', 'tv']);
    expect([map.indexOf(1), map.indexOf(37), map.indexOf(72)]).toEqual([0, 1, 2]);
    expect(() => map.idOf(3)).toThrow(/index must be an integer in 0..2, received 3/);
  });

  it('rejects duplicate ids', () => {
    expect(() => new CategoryMap([{ id: 1, name: 'a', supercategory: '' }, { id: 1, name: 'b', supercategory: '' }])).toThrow(/category id 1 is listed twice/);
  });
});
