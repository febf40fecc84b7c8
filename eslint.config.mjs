import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '*.mjs', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Dependency direction: the pure core never reaches up into the CLI layer.
    files: ['src/tuf/**', 'src/keystore/**', 'src/repository/**', 'src/ceremony/**', 'src/release/**', 'src/bundle/**', 'src/io/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/cli/**', '**/commands/**', '@oclif/*', '@inquirer/*'], message: 'core modules must not depend on the CLI layer' },
      ] }],
    },
  },
  {
    // oclif's run() is async by contract even when a command does no I/O wait
    files: ['src/commands/**'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['src/tuf/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:fs', 'fs', 'node:fs/*', 'fs/*', '**/io/fs*', '**/cli/**', '**/commands/**', '**/keystore/**', '**/repository/**', '@oclif/*'], message: 'src/tuf is pure: no I/O and no upper layers' },
      ] }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'src/tuf takes time as a parameter' }],
    },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // tests build and mutate raw metadata JSON on purpose
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      'no-control-regex': 'off',
      'no-console': 'off',
    },
  },
);
