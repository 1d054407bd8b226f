import { defineConfig } from "vitest/config";

/**
 * The tests StrykerJS runs against each mutant (stryker.config.mjs): the unit tests beside
 * packages/core and the handler factories in functions/. One project, so Stryker's per-test
 * coverage can pick the few tests that reach a mutant.
 */
export default defineConfig({
  test: {
    include: ["packages/core/src/**/*.test.ts", "functions/**/*.test.ts"],
    // Two Stryker workers share two cores with the fuzz tests: a slow test must not fail the
    // dry run (Stryker has its own per-mutant timeout).
    testTimeout: 30_000,
  },
});
