import { Writable } from 'stream';
import { formatDuration, Progress } from './progress';

function sink(isTTY: boolean): Writable & { text: string; isTTY: boolean; columns: number } {
  const s = new Writable({
    write(chunk, _enc, cb) {
      s.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string; isTTY: boolean; columns: number };
  s.text = '';
  s.isTTY = isTTY;
  s.columns = 200;
  return s;
}

describe('Progress', () => {
  it('prints periodic plain lines with rate and ETA when not on a TTY', () => {
    let t = 0;
    const out = sink(false);
    const p = new Progress({ total: 10, label: 'train', stream: out, now: () => t, lineIntervalMs: 2000 });
    for (let step = 1; step <= 10; step++) {
      t += 500; // 2 it/s
      p.update(step, { loss: 0.5 });
    }
    const lines = out.text.trim().split('\n');
    // first update, then one every 2 s (4 steps), and always the last step
    expect(lines).toEqual([
      'train  10% 1/10 [0.5s<4.5s, 2.00 it/s] loss 0.5000',
      'train  50% 5/10 [2.5s<2.5s, 2.00 it/s] loss 0.5000',
      'train  90% 9/10 [4.5s<0.5s, 2.00 it/s] loss 0.5000',
      'train 100% 10/10 [5.0s<0.0s, 2.00 it/s] loss 0.5000',
    ]);
  });

  it('redraws one bar on a TTY and ends the line at the last step', () => {
    let t = 0;
    const out = sink(true);
    const p = new Progress({ total: 4, stream: out, now: () => t, start: 2 });
    t = 4000;
    p.update(3);
    t = 8000;
    p.update(4);
    expect(out.text.startsWith('\r')).toBe(true);
    expect(out.text.endsWith('\n')).toBe(true);
    expect(out.text).toContain('75% ██████████████████░░░░░░ 3/4 [4.0s<4.0s, 4.00 s/it]');
    expect(out.text.split('\n').length).toBe(2);
  });

  it('formats durations', () => {
    expect(formatDuration(12.34)).toBe('12.3s');
    expect(formatDuration(187)).toBe('3m07s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(Infinity)).toBe('?');
  });
});
