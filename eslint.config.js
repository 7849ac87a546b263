import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Components meet only through proto/: these patterns keep them from importing each other.
const fence = (others) => ({
  'no-restricted-imports': ['error', {
    patterns: others.map((o) => ({ group: [`**/${o}/**`], message: `import the API from proto/, not ${o}/` })),
  }],
});

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
  { files: ['control-plane/**'], rules: fence(['node-agent', 'cli']) },
  { files: ['node-agent/**'], rules: fence(['control-plane', 'cli']) },
  { files: ['cli/**'], rules: fence(['control-plane', 'node-agent']) },
  { files: ['proto/**'], rules: fence(['control-plane', 'node-agent', 'cli']) },
);
