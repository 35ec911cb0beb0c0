import tseslint from 'typescript-eslint';

/** Workflow code must stay deterministic: only the workflow SDK, pure core/ code and type imports. */
const workflowImports = {
  patterns: [
    {
      regex: '^(?!@temporalio/workflow$|\\.\\./core/|\\.\\./contracts/|\\./)',
      allowTypeImports: true,
      message: 'workflows/ may import only @temporalio/workflow, ../core/*, ../contracts/* and sibling workflow files (use `import type` for anything else)',
    },
  ],
};

/** core/ is pure and workflow-safe: no Node built-ins, no I/O, no non-core modules at run time. */
const coreImports = {
  patterns: [
    {
      regex: '^(?!\\./)',
      allowTypeImports: true,
      message: 'core/ is pure and workflow-safe: import only other core/ files at run time (use `import type` for anything else)',
    },
  ],
};

/** contracts/ (message definitions, wire schemas) is shared by api/, activities/, workflows/ and agent/: workflow-safe, no server code. */
const contractImports = {
  patterns: [
    {
      regex: '^(?!@temporalio/workflow$|zod$|\\.\\./core/|\\./)',
      allowTypeImports: true,
      message: 'contracts/ may import only @temporalio/workflow, zod, ../core/* and other contracts (use `import type` for anything else)',
    },
  ],
};

/**
 * Layers (docs/architecture.md, "Layout"): relative imports into the folders a layer must not reach.
 * `depth` is how deep the linted files sit below the repository root (ca/key-checks/ is 2).
 */
const into = (folders, depth = 1) => `^(\\.\\./){${depth}}(${folders.join('|')})/`;
/** Relative imports into any folder but these (and siblings). */
const outside = (folders, depth = 1) => `^(\\.\\./){${depth}}(?!(${folders.join('|')})/)`;

const TOOLS = ['scripts', 'bench', 'test'];

/** ca/ is library code (X.509, keys, CSRs, CRLs, OCSP): pure, no server layer, usable by the agent. */
const caImports = (depth) => ({
  patterns: [{ regex: outside(['core'], depth), message: 'ca/ is library code: it may import only core/ and other ca/ files' }],
});

/** db/ is repositories over the schema: no layer above it. */
const dbImports = {
  patterns: [{ regex: into(['api', 'activities', 'workflows', 'cmd', 'agent', 'devservices', ...TOOLS]), message: 'db/ may import core/, ca/ and other db/ files, never api/, activities/, workflows/, cmd/ or tools' }],
};

/** activities/ do the side effects; the workflows that call them are known by type only. */
const activityImports = {
  patterns: [
    { regex: into(['api', 'cmd', 'agent', 'devservices', ...TOOLS]), message: 'activities/ never import api/, cmd/, agent/, devservices/ or tools' },
    { regex: into(['workflows']), allowTypeImports: true, message: 'activities/ may import workflows/ only with `import type`' },
  ],
};

/** api/ parses, authorizes and delegates: it starts and queries workflows by type, never runs activities. */
const apiImports = (depth) => ({
  patterns: [
    { regex: into(['cmd', 'agent', 'devservices', ...TOOLS], depth), message: 'api/ never imports cmd/, agent/, devservices/ or tools' },
    { regex: into(['activities', 'workflows'], depth), allowTypeImports: true, message: 'api/ may import activities/ and workflows/ only with `import type`' },
  ],
});

/** agent/ runs on other hosts: only what it shares with the server on purpose. */
const agentImports = {
  patterns: [{ regex: outside(['core', 'contracts', 'ca', 'host-files']), message: 'agent/ may import only core/, contracts/, ca/ and host-files/ (nothing of the server)' }],
};

/** host-files/ (atomic certificate files, shared by deliveries and the agent): Node built-ins and core/ only. */
const hostFileImports = {
  patterns: [{ regex: outside(['core']), message: 'host-files/ may import only core/ and Node built-ins' }],
};

/** devservices/ (embedded Postgres, Temporal dev server and CLI) run for `npm run dev` and the tests. */
const devServiceImports = {
  patterns: [{ regex: outside(['core']), message: 'devservices/ may import only core/ (never cmd/ or a developer tool)' }],
};

/** cmd/ (entry points and composition roots) never depends on a developer tool or on test code. */
const cmdImports = {
  patterns: [{ regex: into(TOOLS), message: 'cmd/ never imports developer tools (scripts/, bench/) or test code' }],
};

/** Developer tools (scripts/, bench/) use devservices/ and library code, never an entry point. */
const toolImports = {
  patterns: [{ regex: into(['cmd']), message: 'developer tools never import cmd/: move what they share into a library folder (db/, devservices/, …)' }],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'dist/**', 'db/migrations/**', 'test/replay/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  { files: ['workflows/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', workflowImports] } },
  { files: ['contracts/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', contractImports] } },
  { files: ['core/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', coreImports] } },
  { files: ['ca/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', caImports(1)] } },
  { files: ['ca/*/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', caImports(2)] } },
  { files: ['db/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', dbImports] } },
  { files: ['activities/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', activityImports] } },
  { files: ['api/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', apiImports(1)] } },
  { files: ['api/*/*.ts', 'api/*/*.tsx'], rules: { '@typescript-eslint/no-restricted-imports': ['error', apiImports(2)] } },
  { files: ['api/*/*/*.ts', 'api/*/*/*.tsx'], rules: { '@typescript-eslint/no-restricted-imports': ['error', apiImports(3)] } },
  { files: ['agent/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', agentImports] } },
  { files: ['host-files/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', hostFileImports] } },
  { files: ['devservices/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', devServiceImports] } },
  { files: ['cmd/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', cmdImports] } },
  { files: ['scripts/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', toolImports] } },
  // A regex literal as an expected property value in toMatchObject/toEqual is compared as an object and always
  // passes in this vitest (a test that cannot fail); expect.stringMatching(/…/) checks the string.
  {
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name=/^(toMatchObject|toEqual|toStrictEqual|objectContaining)$/] Property > Literal[regex]",
          message: 'A regex literal here is not matched against the string: use expect.stringMatching(/…/).',
        },
      ],
    },
  },
  // Not workflow code: the path the worker and the bundler load workflows from (node:url); no workflow imports it.
  { files: ['workflows/workflows-path.ts'], rules: { '@typescript-eslint/no-restricted-imports': 'off' } },
);
