// ESLint flat config: the rules the Temporal samples use, plus the layering rules of docs/architecture.md.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';

// The layering of docs/architecture.md, bottom to top. A folder may import only from the folders
// below it: lib ← config, repository, sources ← runtime ← observability ← activities ← workflows (types only) ←
// workers ← client. test/ and bench/ sit above everything; product code never imports them, except
// the demo command (zones below), which starts the dev servers of test/servers/.
const LAYERS = {
  lib: [],
  config: ['lib'],
  repository: ['lib'],
  sources: ['lib'],
  retention: ['lib'],
  consistency: ['lib', 'sources'],
  runtime: ['lib', 'config', 'repository'],
  observability: ['lib', 'config', 'repository', 'runtime'],
  activities: ['lib', 'config', 'repository', 'sources', 'retention', 'runtime', 'observability', 'consistency'],
  workflows: ['lib', 'activities'],
  workers: [
    'lib',
    'config',
    'repository',
    'sources',
    'retention',
    'consistency',
    'runtime',
    'observability',
    'activities',
    'workflows',
  ],
  client: [
    'lib',
    'config',
    'repository',
    'sources',
    'retention',
    'consistency',
    'runtime',
    'observability',
    'activities',
    'workflows',
    'workers',
  ],
};
const PRODUCT = Object.keys(LAYERS);
const layerZones = (extraAllowed = {}) =>
  PRODUCT.flatMap((target) =>
    [...PRODUCT, 'test', 'bench']
      .filter(
        (from) => from !== target && !LAYERS[target].includes(from) && !(extraAllowed[target] ?? []).includes(from),
      )
      .map((from) => ({
        target: `./${target}`,
        from: `./${from}`,
        message: `layering (docs/architecture.md): ${target}/ may import only ${LAYERS[target].join(', ') || 'nothing of the project'}`,
      })),
  );

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.tools/**', '.lifeboat/**', 'eslint.config.mjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js', '.json'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/test return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'test', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layerZones() }],
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // The demo command is the one product file that starts the dev servers (test/servers/).
    files: ['client/commands/demo.ts', 'client/commands/demo-data.ts'],
    rules: { 'import-x/no-restricted-paths': ['error', { zones: layerZones({ client: ['test'] }) }] },
  },
  {
    // Tests may poke at untyped JSON and SDK internals.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node APIs, and only ApplicationFailure
    // fails a workflow (a plain Error fails the workflow *task*, which Temporal retries forever).
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'workflow code runs in the Temporal sandbox: no Node APIs; do I/O in an activity',
          })),
          patterns: [
            {
              group: ['../activities/*', '!../activities/types'],
              message: 'workflows import only activity *types* (activities/types.ts)',
            },
            {
              group: ['../sources/*', '../repository/*', '../config/*', '../client/*', '../workers/*'],
              message: 'workflow code may not import I/O layers',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ThrowStatement > NewExpression[callee.name=/^(Error|TypeError|RangeError)$/]',
          message:
            'throw ApplicationFailure (with a type) in workflow code: a plain Error fails the workflow task and Temporal retries it forever',
        },
      ],
    },
  },
);
