/**
 * docs/reliability.md is generated (test/faults/report.ts): it must be exactly what the
 * formatter makes of the committed results, so nobody edits the figures by hand.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatReliability, type ReliabilityResults } from "./report-format.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("docs/reliability.md", () => {
  it("is the formatter's output for test/faults/results.json (npm run reliability -- --format-only)", () => {
    const results = JSON.parse(
      readFileSync(`${ROOT}test/faults/results.json`, "utf8"),
    ) as ReliabilityResults;
    expect(readFileSync(`${ROOT}docs/reliability.md`, "utf8")).toBe(formatReliability(results));
  });
});
