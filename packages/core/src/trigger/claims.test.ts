import { describe, expect, it } from "vitest";
import { verifiedTrigger } from "../testing/id-tokens.ts";
import {
  type AutoApproveRule,
  describeAutoApproveRule,
  matchingAutoApproveRule,
} from "./claims.ts";

const verified = verifiedTrigger({
  ref: "refs/heads/main",
  actor: "dependabot[bot]",
  workflowRef: "acme/hello-service/.github/workflows/ci.yml@refs/heads/main",
  eventName: "push",
  environment: "prod",
});

describe("matchingAutoApproveRule", () => {
  it.each<[string, AutoApproveRule, AutoApproveRule]>([
    ["actor", { actor: "dependabot[bot]" }, { actor: "octocat" }],
    ["ref", { ref: "refs/heads/main" }, { ref: "refs/heads/mai" }],
    ["ref prefix", { ref: "refs/heads/*" }, { ref: "refs/tags/*" }],
    [
      "workflow",
      { workflow: "acme/hello-service/.github/workflows/ci.yml" },
      { workflow: "acme/hello-service/.github/workflows/release.yml" },
    ],
    ["eventName", { eventName: "push" }, { eventName: "workflow_dispatch" }],
    ["environment", { environment: "prod" }, { environment: "preprod" }],
  ])("matches on %s, and not on another value", (_, matching, other) => {
    expect(matchingAutoApproveRule([matching], verified)).toEqual({ index: 0, rule: matching });
    expect(matchingAutoApproveRule([other], verified)).toBeUndefined();
  });

  it("requires every field of a rule to match", () => {
    expect(
      matchingAutoApproveRule([{ actor: "dependabot[bot]", ref: "refs/heads/dev" }], verified),
    ).toBeUndefined();
  });

  it("returns the first matching rule with its index", () => {
    const rules = [{ actor: "octocat" }, { ref: "refs/heads/*" }, { eventName: "push" }];
    expect(matchingAutoApproveRule(rules, verified)).toEqual({ index: 1, rule: rules[1] });
  });

  it("never matches with a rule without fields, or fields left undefined", () => {
    expect(matchingAutoApproveRule([{}], verified)).toBeUndefined();
    expect(matchingAutoApproveRule([{ actor: undefined }], verified)).toBeUndefined();
  });

  it("never matches an unverified trigger", () => {
    expect(matchingAutoApproveRule([{ actor: "dependabot[bot]" }], undefined)).toBeUndefined();
  });

  it("does not match workflow or environment rules when the token lacks those claims", () => {
    const bare = { ...verified, workflowRef: undefined, environment: undefined };
    expect(matchingAutoApproveRule([{ workflow: "acme/x" }], bare)).toBeUndefined();
    expect(matchingAutoApproveRule([{ environment: "prod" }], bare)).toBeUndefined();
  });
});

describe("describeAutoApproveRule", () => {
  it("names each field given, in order, and skips undefined ones", () => {
    expect(
      describeAutoApproveRule({
        actor: "dependabot[bot]",
        ref: "refs/heads/main",
        eventName: undefined,
      }),
    ).toBe("actor dependabot[bot], ref refs/heads/main");
    expect(describeAutoApproveRule({ environment: "prod" })).toBe("environment prod");
  });
});
