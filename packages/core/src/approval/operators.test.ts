import { describe, expect, it } from "vitest";
import { approversActingAs, LOCAL_OPERATOR } from "./operators.ts";

const ALICE = "arn:aws:iam::111122223333:user/alice";
const operators = {
  "alice@example.com": { iam: [ALICE] },
  "ops@example.com": { local: true, iam: [ALICE] },
  "bob@example.com": { local: false },
  // A misconfigured entry: an empty ARN must not let an unauthenticated caller through.
  "blank@example.com": { iam: [""] },
};

describe("approversActingAs", () => {
  it.each([
    [
      "an IAM principal, to every approver listing its ARN",
      ALICE,
      ["alice@example.com", "ops@example.com"],
    ],
    ["the local operator, to approvers marked local", LOCAL_OPERATOR, ["ops@example.com"]],
    ["an unlisted principal, to nobody", "arn:aws:iam::111122223333:user/eve", []],
    [
      "a pattern-looking principal, to nobody (ARNs match exactly)",
      "arn:aws:iam::111122223333:user/*",
      [],
    ],
    ["a principal differing only in case, to nobody", ALICE.toUpperCase(), []],
    ["an empty principal, to nobody, even against an empty ARN", "", []],
  ])("maps %s", (_name, principal, expected) => {
    expect(approversActingAs(operators, principal)).toEqual(expected);
  });

  it("maps nobody when the registry has no operators", () => {
    expect(approversActingAs(undefined, ALICE)).toEqual([]);
    expect(approversActingAs(undefined, LOCAL_OPERATOR)).toEqual([]);
  });
});
