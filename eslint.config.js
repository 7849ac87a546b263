import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Components meet only through proto/: these patterns keep them from importing each other.
const fence = (others) => ({
  'no-restricted-imports': ['error', {
    patterns: others.map((o) => ({ group: [`**/${o}/**`], message: `import the API from proto/, not ${o}/` })),
  }],
});

const tests = ['**/*.test.ts', '**/*.test.tsx'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'proto/gen/**', 'scripts/*.mjs', 'eslint.config.js', 'vitest.config.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  // Tests may start any component (an agent test runs a real control plane); product code may not.
  { files: ['control-plane/**'], ignores: tests, rules: fence(['node-agent', 'cli']) },
  { files: ['node-agent/**'], ignores: tests, rules: fence(['control-plane', 'cli']) },
  { files: ['cli/**'], ignores: tests, rules: fence(['control-plane', 'node-agent']) },
  { files: ['proto/**'], ignores: tests, rules: fence(['control-plane', 'node-agent', 'cli']) },
);
