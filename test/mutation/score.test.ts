import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DOC, SCORES } from "./paths.ts";
import {
  formatScores,
  type MutationScores,
  meetsTarget,
  type StrykerReport,
  summarize,
  withScores,
} from "./score-format.ts";

type ReportMutant = StrykerReport["files"][string]["mutants"][number];

const mutant = (line: number, status: string, statusReason?: string): ReportMutant => ({
  mutatorName: "ConditionalExpression",
  replacement: "true",
  status,
  ...(statusReason ? { statusReason } : {}),
  location: { start: { line } },
});

/** A report where a critical file has `killed` killed mutants and `extra` more of one status. */
function report(killed: number, extra: ReportMutant[]): StrykerReport {
  return {
    files: {
      "packages/core/src/steps/rollback.ts": {
        source: "line one\n  if (after?.version !== restore) throw x;\n",
        mutants: [...Array.from({ length: killed }, () => mutant(2, "Killed")), ...extra],
      },
      "functions/deploy.ts": { source: "x\n", mutants: [mutant(1, "Survived")] },
    },
  };
}

describe("mutation scores", () => {
  it("counts killed and timed-out mutants as detected, survivors and uncovered as missed", () => {
    const scores = summarize(
      report(17, [mutant(2, "Timeout"), mutant(2, "Survived"), mutant(2, "NoCoverage")]),
    );
    const rollback = scores.files.find((f) => f.file.endsWith("rollback.ts"));
    expect(rollback).toMatchObject({ critical: true, detected: 18, undetected: 2, percent: 90 });
    expect(scores.files.find((f) => f.file === "functions/deploy.ts")?.critical).toBe(false);
    expect(scores.critical).toEqual({ detected: 18, total: 20, percent: 90 });
    const inRollback = scores.undetected.filter((m) => m.file.endsWith("rollback.ts"));
    expect(inRollback[0]).toMatchObject({
      file: "packages/core/src/steps/rollback.ts",
      line: 2,
      code: "if (after?.version !== restore) throw x;",
      note: "Survived: true",
    });
  });

  it("meets the target at 95% and not below", () => {
    expect(meetsTarget(summarize(report(19, [mutant(2, "Survived")])))).toBe(true);
    expect(meetsTarget(summarize(report(18, [mutant(2, "Survived")])))).toBe(false);
  });

  it("cannot be met by disabling mutants: accepted ones count as missed in the gate", () => {
    const accepted = Array.from({ length: 5 }, () => mutant(2, "Ignored", "equivalent: x"));
    const scores = summarize(report(19, accepted));
    // Stryker's own per-file figure leaves them out; the gate does not.
    expect(scores.files[1]).toMatchObject({ accepted: 5, percent: 100 });
    expect(scores.critical.percent).toBe(79.2);
    expect(meetsTarget(scores)).toBe(false);
    expect(scores.accepted).toHaveLength(5);
    expect(scores.accepted[0]?.note).toBe("equivalent: x");
  });

  it("treats a disable comment with no reason as unexplained", () => {
    const scores = summarize(report(19, [mutant(2, "Ignored", "Ignored using a comment")]));
    expect(scores.accepted).toEqual([]);
    expect(scores.undetected.map((m) => m.note)).toContain("Ignored without a reason");
  });

  it("fails the gate on an empty report rather than passing it", () => {
    expect(meetsTarget(summarize({ files: {} }))).toBe(false);
  });

  it("refuses a document that lost its markers", () => {
    expect(() => withScores("# Testing\n", summarize(report(1, [])))).toThrow(/markers/);
  });
});

describe("docs/testing.md", () => {
  it("shows the committed scores (npm run mutation -- --format-only rewrites it)", () => {
    const scores = JSON.parse(readFileSync(SCORES, "utf8")) as MutationScores;
    const doc = readFileSync(DOC, "utf8");
    expect(doc).toContain(formatScores(scores));
    expect(withScores(doc, scores)).toBe(doc);
  });

  it("records a score that meets the target", () => {
    const scores = JSON.parse(readFileSync(SCORES, "utf8")) as MutationScores;
    expect(meetsTarget(scores)).toBe(true);
  });
});
