import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The repository root, where Stryker runs. */
export const MUTATION_ROOT = ROOT;
/** Per-file scores of the last full run, committed. */
export const SCORES = join(ROOT, "test/mutation/scores.json");
/** The document whose generated part shows them. */
export const DOC = join(ROOT, "docs/testing.md");
/** Stryker's JSON report (stryker.config.mjs), not committed. */
export const REPORT = join(ROOT, "reports/mutation/mutation.json");
