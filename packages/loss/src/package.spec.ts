/**
 * @gpl/loss as its users get it: built, packed with `npm pack`, installed into a fresh project
 * whose only other dependency is @tensorflow/tfjs, and used there from plain JavaScript.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const packageRoot = path.resolve(__dirname, '..');
const workspaceRoot = path.resolve(packageRoot, '../..');

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
}

describe('the published package', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-loss-pack-'));
  });
  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('packs with only its build output and installs beside @tensorflow/tfjs alone, where it computes a loss and a gradient', () => {
    // Stage a copy of the package and build it there, so the test never writes into the workspace.
    const stage = path.join(tmp, 'stage');
    fs.mkdirSync(stage);
    for (const f of ['package.json', 'README.md', 'LICENSE']) fs.copyFileSync(path.join(packageRoot, f), path.join(stage, f));
    run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(packageRoot, 'tsconfig.lib.json'), '--outDir', path.join(stage, 'dist')], workspaceRoot);
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], stage))[0];
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files.filter((f) => !f.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(files.some((f) => f.endsWith('.spec.js'))).toBe(false);
    // Source maps carry their sources (src/ is not shipped): every map has sourcesContent for each source.
    const maps = files.filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(5);
    for (const m of maps) {
      const map = JSON.parse(fs.readFileSync(path.join(stage, m), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect({ m, complete: map.sourcesContent?.length === map.sources.length && map.sourcesContent.every((c) => typeof c === 'string' && c.length > 0) }).toEqual({ m, complete: true });
    }

    const project = path.join(tmp, 'user-project');
    fs.mkdirSync(project);
    const tfjsVersion = require('@tensorflow/tfjs/package.json').version;
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'user-project', private: true, dependencies: { '@tensorflow/tfjs': tfjsVersion, '@gpl/loss': `file:${path.join(tmp, packed.filename)}` } }),
    );
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], project);
    const installed = JSON.parse(fs.readFileSync(path.join(project, 'node_modules/@gpl/loss/package.json'), 'utf8'));
    expect(installed.dependencies ?? {}).toEqual({});
    // onnxruntime-node and protobufjs (which writes its graph) are optional: npm installs neither here.
    expect(Object.keys(installed.peerDependencies)).toEqual(['@tensorflow/tfjs-core', 'onnxruntime-node', 'protobufjs']);
    expect(installed.peerDependenciesMeta).toEqual({ 'onnxruntime-node': { optional: true }, protobufjs: { optional: true } });
    expect(fs.existsSync(path.join(project, 'node_modules/onnxruntime-node'))).toBe(false);

    fs.writeFileSync(
      path.join(project, 'use.js'),
      `const tf = require('@tensorflow/tfjs');
       const { GenericPerceptualLoss } = require('@gpl/loss');
       tf.setBackend('cpu').then(() => {
         const gpl = new GenericPerceptualLoss({ inChannels: 4, blocks: [1, 1], channels: [8, 8], seed: 1 });
         const target = tf.oneHot(tf.tensor2d([[0, 1, 2, 3], [3, 2, 1, 0], [0, 0, 1, 1], [2, 2, 3, 3]], [4, 4], 'int32'), 4).toFloat().expandDims(0);
         const logits = tf.variable(tf.zeros([1, 4, 4, 4]));
         const f = () => gpl.compute(tf.softmax(logits), target);
         const before = f().dataSync()[0];
         const opt = tf.train.sgd(50);
         for (let i = 0; i < 20; i++) opt.minimize(f);
         const after = f().dataSync()[0];
         const engine = gpl.engineReport();
         console.log(JSON.stringify({ before, after, describe: gpl.describe().label, backend: tf.getBackend(), engine }));
       });`,
    );
    const out = JSON.parse(run(process.execPath, ['use.js'], project).trim().split('\n').pop()!);
    expect(out.backend).toBe('cpu');
    expect(out.describe).toBe('vgg[1,1]');
    // engine 'auto' without onnxruntime-node: TensorFlow.js, and the report says why.
    expect(out.engine).toEqual({ engine: 'tfjs', requested: 'auto', threads: null, version: null, skipped: [{ engine: 'onnxruntime', reason: 'onnxruntime-node is not installed (npm i onnxruntime-node protobufjs)' }] });
    expect(out.before).toBeGreaterThan(0);
    expect(out.after).toBeLessThan(0.5 * out.before);
  }, 300_000);
});
