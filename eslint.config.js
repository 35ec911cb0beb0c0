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
);
