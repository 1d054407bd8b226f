import { describe, expect, it } from "vitest";
import { verifiedTrigger } from "../testing/id-tokens.ts";
import type { VerifiedTrigger } from "./claims.ts";
import { describeAutoApproval, hideIdTokens, hideIdTokensInJson, triggerText } from "./describe.ts";

const sha = "3f2a9c1e0b12aabbccddeeff0011223344556677";
const verified = verifiedTrigger({
  subject: "repo:acme/hello-service:environment:prod",
  repositoryId: "123456",
  sha,
  actor: "octocat",
  workflowRef: "acme/hello-service/.github/workflows/release.yml@refs/heads/main",
  eventName: "push",
  environment: "prod",
  runId: "42",
  runAttempt: "2",
});
const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl";

describe("triggerText", () => {
  it("marks a trigger without verified claims as an unverified claim", () => {
    expect(triggerText({ actor: "dependabot[bot]" })).toBe("dependabot[bot] (unverified claim)");
    expect(triggerText({ actor: "dependabot[bot]", verified: null }, "full")).toBe(
      "dependabot[bot] (unverified claim: no ID token)",
    );
  });

  it("says what was verified, compactly for terminals", () => {
    expect(triggerText({ actor: "octocat", verified }, "compact")).toBe(
      "octocat — verified by token.actions.githubusercontent.com: acme/hello-service@refs/heads/main, commit 3f2a9c1e0b12, workflow release.yml, run 42",
    );
  });

  it("and in full for the console", () => {
    expect(triggerText({ actor: "octocat", verified }, "full")).toBe(
      `octocat — verified by https://token.actions.githubusercontent.com: acme/hello-service@refs/heads/main, commit ${sha}, workflow acme/hello-service/.github/workflows/release.yml@refs/heads/main, run 42 (attempt 2), event push, environment prod, repository id 123456`,
    );
  });

  it("names the local issuer with its path, and the token's actor over the claimed one", () => {
    const local = {
      ...verified,
      issuer: "http://127.0.0.1:8084/oidc",
      workflow: "release",
      runId: undefined,
    } as unknown as VerifiedTrigger;
    expect(triggerText({ actor: "someone-else", verified: local })).toBe(
      "octocat — verified by 127.0.0.1:8084/oidc: acme/hello-service@refs/heads/main, commit 3f2a9c1e0b12, workflow release",
    );
  });
});

describe("describeAutoApproval", () => {
  it("counts rules from 1 and says the claims were verified", () => {
    expect(
      describeAutoApproval({ index: 1, matched: "actor dependabot[bot], ref refs/heads/main" }),
    ).toBe(
      "approved automatically by rule 2 (actor dependabot[bot], ref refs/heads/main) on verified claims",
    );
  });
});

describe("hideIdTokens", () => {
  it("replaces every idToken value, at any depth, and leaves the rest alone", () => {
    const input = {
      input: { trigger: { actor: "octocat", idToken: jwt } },
      list: [{ idToken: jwt }],
    };
    const hidden = hideIdTokens(input);
    expect(hidden).toEqual({
      input: { trigger: { actor: "octocat", idToken: "(ID token, not shown)" } },
      list: [{ idToken: "(ID token, not shown)" }],
    });
    expect(JSON.stringify(hidden)).not.toContain(jwt);
    expect(input.input.trigger.idToken).toBe(jwt); // a copy
  });

  it("in JSON text, and cuts a JWT out of text that is not JSON", () => {
    expect(hideIdTokensInJson(JSON.stringify({ trigger: { idToken: jwt } }))).toBe(
      '{"trigger":{"idToken":"(ID token, not shown)"}}',
    );
    expect(hideIdTokensInJson(`token ${jwt} here`)).toBe("token (ID token, not shown) here");
    expect(hideIdTokensInJson("plain")).toBe("plain");
  });
});
