import { DataError } from '@gpl/data';
import { explainDataRoot, failOnUsage, prepareArgs, runCliMain } from './cli';
import { NonFiniteLossError, UsageError } from './errors';

describe('prepareArgs', () => {
  it('joins a value that starts with a minus sign to its flag', () => {
    expect(prepareArgs(['--shard', '-1/2', '--lr', '-0.5', '--resume'], 't')).toEqual(['--shard=-1/2', '--lr=-0.5', '--resume']);
    expect(prepareArgs(['--a=-1', '-h'], 't')).toEqual(['--a=-1', '-h']);
  });

  it('refuses a flag given twice, under either spelling, with both values', () => {
    expect(() => prepareArgs(['--checkpoint', 'a', '--checkpoint=b'], 'teacher')).toThrow(new UsageError('[teacher] --checkpoint was given 2 times (a, b); give it once.'));
    expect(() => prepareArgs(['--dataRoot', 'x', '--data-root', 'y'], 'seg')).toThrow('[seg] --data-root was given 2 times (x, y)');
    expect(() => prepareArgs(['--resume', '--no-resume'], 'seg')).toThrow('[seg] --resume was given 2 times (true, false)');
    expect(prepareArgs(['--a', '1', '--', '--a', '2'], 't')).toEqual(['--a', '1', '--', '--a', '2']);
  });
});

describe('failOnUsage', () => {
  it("turns yargs' message (or its YError) into one line, and passes other errors on", () => {
    expect(() => failOnUsage('Invalid values:\n  Argument: model, Given: "unet"', undefined)).toThrow(new UsageError('Invalid values: Argument: model, Given: "unet". Run with --help for the options.'));
    const yError = Object.assign(new Error('Not enough arguments following: lr'), { name: 'YError' });
    expect(() => failOnUsage(undefined, yError)).toThrow('Not enough arguments following: lr. Run with --help for the options.');
    const bug = new TypeError('x is undefined');
    expect(() => failOnUsage(undefined, bug)).toThrow(bug);
  });
});

describe('runCliMain', () => {
  const run = async (err: unknown, env: NodeJS.ProcessEnv = {}, args: string[] = []) => {
    const printed: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: unknown) => void printed.push(String(m)));
    try {
      const code = await runCliMain(async () => {
        if (err) throw err;
      }, args, env);
      return { code, printed: printed.join('\n') };
    } finally {
      spy.mockRestore();
    }
  };

  it('exits 0 on success, 1 with the message alone for an expected failure, 3 for a non-finite loss', async () => {
    expect(await run(undefined)).toEqual({ code: 0, printed: '' });
    expect(await run(new RangeError('[seg] option x: expected y.'))).toEqual({ code: 1, printed: '[seg] option x: expected y.' });
    expect((await run(new NonFiniteLossError('seg', 3, NaN, undefined))).code).toBe(3);
  });

  it('prints the stack of an unexpected error, and of an expected one under --verbose or GPL_DEBUG=1', async () => {
    expect((await run(new TypeError('boom'))).printed).toMatch(/^TypeError: boom\n\s+at /);
    expect((await run(new RangeError('[seg] bad'), {}, ['--verbose'])).printed).toMatch(/\[seg\] bad\n\s+at /);
    expect((await run(new RangeError('[seg] bad'), { GPL_DEBUG: '1' })).printed).toMatch(/\[seg\] bad\n\s+at /);
  });
});

describe('explainDataRoot', () => {
  it('adds --data-root and the other formats to a folder of the wrong layout, and leaves other errors alone', () => {
    const layout = new DataError({ pkg: '@gpl/voc', code: 'wrong-layout', file: '/d', expected: 'the Pascal VOC 2012 layout (JPEGImages)', received: 'an empty folder' });
    expect((explainDataRoot(layout, 'voc', ['cityscapes', 'voc', 'ade20k']) as Error).message).toBe(
      '[@gpl/voc] wrong-layout: /d: expected the Pascal VOC 2012 layout (JPEGImages), received an empty folder. Pass the folder of a voc dataset as --data-root, or --dataset cityscapes or ade20k if it holds another format.',
    );
    const missing = new DataError({ pkg: '@gpl/voc', code: 'missing-file', file: 'a.png', expected: 'x', received: 'no such file' });
    expect(explainDataRoot(missing, 'voc', ['voc'])).toBe(missing);
  });
});
