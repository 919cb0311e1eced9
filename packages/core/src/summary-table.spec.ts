import { formatParameterTable, millionsNote } from './summary-table';

describe('formatParameterTable', () => {
  it('lists the prefixes with parameters, then the totals, aligned', () => {
    const text = formatParameterTable('Net: trainable parameters by prefix', { conv1: 9408, input_check: 0, layer3: 7_098_368 }, [
      { label: 'trainable', count: 7_107_776, note: millionsNote(7_107_776) },
      { label: 'total', count: 7_110_000 },
    ]);
    expect(text.split('\n')).toEqual([
      'Net: trainable parameters by prefix',
      '  conv1                9,408',
      '  layer3           7,098,368',
      '  trainable        7,107,776   (7.11M; 6.78 × 2^20)',
      '  total            7,110,000',
    ]);
    expect(formatParameterTable('T', { a: 1 }, [], 4)).toBe('T\n  a              1');
  });

  it('millionsNote gives both units', () => {
    expect(millionsNote(24_055_667)).toBe('24.06M; 22.94 × 2^20');
  });
});
