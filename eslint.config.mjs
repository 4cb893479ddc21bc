import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/** The files that wire providers in by name: the composition root and its entry point. */
const COMPOSITION_ROOT = ['src/service.ts', 'src/main.ts'];

// Case-insensitive and without word boundaries, so `SUBOTIZ_PORT`, `subotizRef` and `demo-subotiz` all count.
const PROVIDER = '/(subotiz|paytiko|azotte)/i';
const NAMED = 'names a provider; the core knows providers by their module and features, never by name';

/** Provider names in code: string literals, template text and identifiers (comments are not code). */
const PROVIDER_NAMES = [
  { selector: `Literal[value=${PROVIDER}]`, message: `This string ${NAMED}.` },
  { selector: `TemplateElement[value.raw=${PROVIDER}]`, message: `This template ${NAMED}.` },
  { selector: `Identifier[name=${PROVIDER}]`, message: `This identifier ${NAMED}.` },
];

// What holds a provider id in the app: `provider`, `providerId`, and as properties also `x.id` (a module's id).
const PROVIDER_NAME_OF = '/^(provider|providerId)$/';
const BRANCHED = 'The app branches on provider features (module.features), never on a provider id.';

/** Comparing a provider id with a literal, or switching on one: the app asking "which provider is this?". */
const PROVIDER_BRANCHES = [
  ...['left', 'right'].flatMap((side) => {
    const other = side === 'left' ? 'right' : 'left';
    const compared = `BinaryExpression[operator=/^[!=]==?$/][${other}.type='Literal']`;
    return [
      { selector: `${compared}[${side}.name=${PROVIDER_NAME_OF}]`, message: BRANCHED },
      { selector: `${compared}[${side}.property.name=/^(provider|providerId|id)$/]`, message: BRANCHED },
    ];
  }),
  { selector: `SwitchStatement[discriminant.name=${PROVIDER_NAME_OF}]`, message: BRANCHED },
  { selector: `SwitchStatement[discriminant.property.name=/^(provider|providerId|id)$/]`, message: BRANCHED },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'packages/*/dist/**', 'src/gen/**', 'coverage/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Which layer may import which is dependency-cruiser's job (.dependency-cruiser.cjs, run by `npm run lint`).
      'no-restricted-imports': 'off',
    },
  },
  {
    // The core names no provider (ARCHITECTURE: "src/ names no provider outside the composition root"); the kit is
    // shared by every adapter, so it names none either. Comments may; code strings and identifiers may not.
    files: ['src/**/*.ts', 'adapters/kit/**/*.ts'],
    ignores: COMPOSITION_ROOT,
    rules: { 'no-restricted-syntax': ['error', ...PROVIDER_NAMES] },
  },
  {
    // The app branches on features, never on which provider it is talking to. Same rule as above, plus that one.
    files: ['src/app/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...PROVIDER_NAMES, ...PROVIDER_BRANCHES] },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
