// ESLint (flat config): typescript-eslint's recommended rules and Nx's module-boundary rule, which
// enforces the package directions of STYLE.md §2 from the projects' `type:*` tags and bans deep
// imports into a package (only its index, or a declared entry such as `@gpl/core/testing`).
const nx = require('@nx/eslint-plugin');
const tseslint = require('typescript-eslint');

const ALL = ['type:core', 'type:loss', 'type:dataset', 'type:backbone', 'type:engine', 'type:teacher', 'type:task', 'type:tools'];

module.exports = tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'runs/**', 'bench-results/**', 'datasets/**', 'tmp/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-require-imports': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: ['@gpl/core/testing', '@gpl/data/testing', '@gpl/core/bench'],
          banTransitiveDependencies: false,
          depConstraints: [
            { sourceTag: 'type:loss', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:core', onlyDependOnLibsWithTags: ['type:core'] },
            { sourceTag: 'type:dataset', onlyDependOnLibsWithTags: ['type:core'] },
            { sourceTag: 'type:backbone', onlyDependOnLibsWithTags: ['type:core'] },
            { sourceTag: 'type:engine', onlyDependOnLibsWithTags: ['type:core', 'type:loss'] },
            // Tasks and the teacher share only what lies below them: never each other.
            { sourceTag: 'type:teacher', onlyDependOnLibsWithTags: ['type:engine', 'type:core', 'type:dataset', 'type:backbone'] },
            { sourceTag: 'type:task', onlyDependOnLibsWithTags: ['type:engine', 'type:core', 'type:dataset', 'type:backbone', 'type:loss'] },
            { sourceTag: 'type:tools', onlyDependOnLibsWithTags: ALL },
          ],
        },
      ],
    },
  },
  {
    // Specs and benches exercise a package with real neighbours (a PSPNet spec builds a ResNet
    // encoder, a loader spec reads @gpl/data fixtures): any library, still never an app (task,
    // teacher, tools) and never a deep import.
    files: ['**/*.spec.ts', '**/bench/**/*.ts', '**/testing.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@nx/enforce-module-boundaries': ['error', { allow: ['@gpl/core/testing', '@gpl/data/testing', '@gpl/core/bench'], allowCircularSelfDependency: true, depConstraints: [{ sourceTag: '*', onlyDependOnLibsWithTags: ['*'] }] }],
    },
  },
);
