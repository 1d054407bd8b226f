import { defineConfig } from "vitest/config";

/**
 * Test depths (see docs/architecture.md): unit tests sit beside the modules they test; the
 * workflow suite runs the real ASL locally; contract runs the real handlers against the IAM
 * policies and environments the SST app gives them; integration needs moto_server; e2e drives the local
 * control plane; cli runs the built `gantry` command against it; browser needs Chromium; infra
 * checks the SST app offline; attacks drives the local control plane as an adversary would;
 * faults injects faults, crashes and damaged files into it and checks its invariants.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "packages/*/src/**/*.test.ts",
            "functions/**/*.test.ts",
            "test/unit/**/*.test.ts",
            "test/mutation/**/*.test.ts",
          ],
        },
      },
      { test: { name: "workflow", include: ["test/workflow/**/*.test.ts"], testTimeout: 30_000 } },
      {
        test: {
          name: "contract",
          // The functions' real handlers against what AWS would allow and what the stack gives
          // them (IAM and configuration), offline.
          include: ["test/contract/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "cli",
          include: ["test/cli/**/*.test.ts"],
          // Builds packages/cli/dist/gantry.mjs first: the tests run the built command.
          globalSetup: ["test/cli/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "attacks",
          include: ["test/attacks/**/*.test.ts"],
          // Runs the built `gantry` command too (gantry approve, gantry status).
          globalSetup: ["test/cli/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "faults",
          // Fault injection against child control planes (docs/reliability.md): a fast slice by
          // default, the whole matrix with GANTRY_FAULTS_FULL=1 (npm run test:faults:full).
          include: ["test/faults/**/*.test.ts"],
          // A few bad inputs go through the built `gantry deploy`.
          globalSetup: ["test/cli/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "tools",
          include: ["test/tools/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "infra",
          include: ["test/infra/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "conformance",
          // Real clients (the AWS CLI v2, boto3, the JS SDK v3) against the local S3 endpoint,
          // with moto_server as a reference; test/conformance/update-docs.ts turns the results
          // into docs/local.md's table.
          include: ["test/conformance/**/*.test.ts"],
          globalSetup: ["test/conformance/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
