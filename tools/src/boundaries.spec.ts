/**
 * Package boundaries (STYLE.md §2), checked on every production source file:
 * which kinds of package each kind may import, no deep imports, nothing imports a task.
 */
import { builtinModules } from 'module';
import * as fs from 'fs';
import * as path from 'path';
import { WORKSPACE_ROOT } from './paths';

interface Project {
  name: string;
  npmName: string;
  root: string;
  type: string;
}

/** Which project types each type may import (besides itself and @tensorflow/*). */
const ALLOWED: Record<string, readonly string[]> = {
  'type:loss': [],
  'type:core': ['type:core'],
  'type:dataset': ['type:core'],
  'type:backbone': ['type:core'],
  'type:engine': ['type:core', 'type:loss'],
  // Tasks and the teacher share only what lies below them (the soft-label format in @gpl/data, the engine).
  'type:teacher': ['type:engine', 'type:core', 'type:dataset', 'type:backbone'],
  'type:task': ['type:engine', 'type:core', 'type:dataset', 'type:backbone', 'type:loss'],
  'type:tools': ['type:engine', 'type:core', 'type:dataset', 'type:backbone', 'type:loss', 'type:teacher', 'type:task'],
};

function findProjects(dir: string, out: Project[] = []): Project[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const sub = path.join(dir, e.name);
    const pj = path.join(sub, 'project.json');
    if (fs.existsSync(pj)) {
      const project = JSON.parse(fs.readFileSync(pj, 'utf8'));
      const pkg = JSON.parse(fs.readFileSync(path.join(sub, 'package.json'), 'utf8'));
      const type = (project.tags ?? []).find((t: string) => t.startsWith('type:'));
      out.push({ name: project.name, npmName: pkg.name, root: sub, type });
    }
    if (e.name !== 'src') findProjects(sub, out);
  }
  return out;
}

function productionFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return productionFiles(p);
    return /\.ts$/.test(e.name) && !/\.(spec|test)\.ts$/.test(e.name) && e.name !== 'testing.ts' ? [p] : [];
  });
}

const projects = [...findProjects(path.join(WORKSPACE_ROOT, 'packages')), ...findProjects(WORKSPACE_ROOT).filter((p) => p.name === 'tools')];
const byNpm = new Map(projects.map((p) => [p.npmName, p]));

describe('package boundaries', () => {
  it('every project has a type tag with known rules', () => {
    expect(projects.length).toBeGreaterThan(1);
    for (const p of projects) expect({ project: p.name, known: p.type in ALLOWED }).toEqual({ project: p.name, known: true });
  });

  it.each(projects.filter((p) => p.name !== 'tools').map((p) => [p.name, p] as const))('%s imports only what its type allows', (_name, p) => {
    const violations: string[] = [];
    for (const file of productionFiles(path.join(p.root, 'src'))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
        const spec = m[1];
        if (spec.startsWith('.') || spec.startsWith('node:') || !spec.startsWith('@gpl/')) continue;
        const [scope, name, ...rest] = spec.split('/');
        const target = byNpm.get(`${scope}/${name}`);
        const where = path.relative(WORKSPACE_ROOT, file);
        if (rest.length > 0) violations.push(`${where}: deep import '${spec}' (use the package's index)`);
        if (!target) {
          violations.push(`${where}: '${spec}' is not a workspace package`);
          continue;
        }
        if (target.type === 'type:teacher' && p.type !== 'type:tools') violations.push(`${where}: imports the teacher '${spec}'; tasks and teacher share only @gpl/data and @gpl/engine`);
        else if (target.type === 'type:task') violations.push(`${where}: imports the task '${spec}'; nothing imports a task`);
        else if (target !== p && !ALLOWED[p.type].includes(target.type)) {
          violations.push(`${where}: ${p.type} may not import ${target.type} ('${spec}')`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('@gpl/loss production code imports only TensorFlow.js core (and Node built-ins; its optional engine is required lazily)', () => {
    const loss = projects.find((p) => p.name === 'loss');
    if (!loss) return; // not in this checkout yet
    for (const file of productionFiles(path.join(loss.root, 'src'))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
        if (m[1].startsWith('.') || builtinModules.includes(m[1].replace(/^node:/, ''))) continue;
        expect({ file: path.basename(file), imports: m[1] }).toEqual({ file: path.basename(file), imports: '@tensorflow/tfjs-core' });
      }
    }
  });
});
