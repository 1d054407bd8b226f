// @ts-check
/**
 * Mutation testing of the safety net (docs/testing.md): `npm run mutation`.
 * test/mutation/score.ts reads the JSON report, writes the per-file table in docs/testing.md and
 * fails when the safety-critical files score below the target.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: "vitest",
  vitest: { configFile: "test/mutation/vitest.config.ts", related: false },
  plugins: ["@stryker-mutator/vitest-runner"],
  mutate: [
    "packages/core/src/steps/*.ts",
    // The version analysis's statistics and verdicts decide rollbacks.
    "packages/core/src/analysis/*.ts",
    "packages/core/src/approval/*.ts",
    "packages/core/src/trigger/claims.ts",
    "packages/core/src/trigger/verify.ts",
    "functions/*.ts",
    "!**/*.test.ts",
    "!functions/testing.ts",
  ],
  coverageAnalysis: "perTest",
  // Static mutants (module-level values such as the regexes that shape ids) run the whole test
  // set, but a killed one stops at its first failing test, so they stay affordable and count.
  ignoreStatic: false,
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ["html", "json", "clear-text", "progress"],
  // The summary table and the survivors, without listing every test of the dry run.
  clearTextReporter: { reportTests: false },
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  // Stryker rewrites tsconfig.json's paths through TypeScript's JS API, which TypeScript 7 no
  // longer has; our tsconfig points at nothing outside the sandbox, so there is nothing to rewrite.
  tsconfigFile: "test/mutation/tsconfig-not-rewritten.json",
  tempDirName: ".stryker-tmp",
  // Not copied into the sandbox: other runs' sandboxes, reports and local state.
  ignorePatterns: ["/.stryker-tmp*", "/reports", "/.gantry", "/.sst"],
  cleanTempDir: "always",
};
