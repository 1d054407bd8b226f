/**
 * docs/security.md's table of attacks and this suite say the same thing: one row per attack id,
 * in order, with the same description, each naming the test that proves it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/local-process.ts";
import { ATTACKS } from "./attacks.ts";

describe("the attack table in docs/security.md", () => {
  it("has a row for every attack of the suite, and no other", () => {
    const doc = readFileSync(join(ROOT, "docs/security.md"), "utf8");
    const rows = [...doc.matchAll(/^\| (A\d\d) +\| ([^|]+?) +\| ([^|]+?) +\| ([^|]+?) +\|$/gm)].map(
      (m) => ({ id: m[1], attack: m[2], stoppedBy: m[3] ?? "", test: m[4] ?? "" }),
    );
    expect(rows.map((r) => [r.id, r.attack])).toEqual(Object.entries(ATTACKS));
    for (const row of rows) {
      expect(row.stoppedBy.length, row.id).toBeGreaterThan(10);
      expect(row.test, row.id).toContain("test/attacks/approval-attacks.test.ts");
    }
  });
});
