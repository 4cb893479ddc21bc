import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'src/gen/**', 'coverage/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Dependencies point inward: the domain knows nothing of I/O or transports.
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            '../store/*',
            '../grpc/*',
            '../outbox/*',
            '../webhooks/*',
            '../app/*',
            'knex',
            'pg',
            'kafkajs',
            '@grpc/*',
          ],
        },
      ],
    },
  },
  {
    files: ['src/app/**/*.ts', 'src/ports/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            '../store/*',
            '../grpc/*',
            '../outbox/*',
            '../webhooks/*',
            '../../adapters/*',
            'kafkajs',
            '@grpc/*',
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
