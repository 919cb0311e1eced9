import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { linePlotSvg, niceTicks, writeLinePlotPng } from './plot';

describe('line plots', () => {
  it('picks round ticks', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97)).toEqual([20, 40, 60, 80]);
  });

  it('maps data to the plot area and breaks lines at missing values', () => {
    const svg = linePlotSvg([{ name: 'mIoU', x: [0, 1, 2, 3], y: [0, 1, NaN, 1] }], { width: 200, height: 100 });
    const d = /<path d="([^"]+)"/.exec(svg)![1];
    // Two pieces: M…L… then a new M after the gap.
    expect(d.match(/M/g)!.length).toBe(2);
    const pts = d.split(/[ML]/).filter(Boolean).map((p) => p.split(',').map(Number));
    expect(pts[0][0]).toBeCloseTo(70); // left margin
    expect(pts[2][0]).toBeCloseTo(180); // width − right margin
    expect(pts[1][1]).toBeLessThan(pts[0][1]); // higher value drawn higher
    expect(() => linePlotSvg([{ name: 'bad', x: [1, 2], y: [1] }])).toThrow(RangeError);
  });

  it('renders a PNG with the series colour in it', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-plot-')), 'loss.png');
    await writeLinePlotPng(file, [{ name: 'loss', x: [0, 10, 20], y: [2, 1, 0.5], color: '#ff0000' }], { title: 'loss', logY: true });
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([640, 400]);
    let red = 0;
    for (let i = 0; i < data.length; i += info.channels) if (data[i] > 200 && data[i + 1] < 60 && data[i + 2] < 60) red++;
    expect(red).toBeGreaterThan(200); // the line is drawn
    expect(fs.readdirSync(path.dirname(file))).toEqual(['loss.png']); // no temporary left
  });
});
