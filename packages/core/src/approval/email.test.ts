import { describe, expect, it } from "vitest";
import { verifiedTrigger } from "../testing/id-tokens.ts";
import type { VerifiedTrigger } from "../trigger/claims.ts";
import { triggerText } from "../trigger/describe.ts";
import { approvalEmail, approvalFacts } from "./email.ts";
import { escapeHtml } from "./html.ts";
import type { ApprovalRecord } from "./record.ts";

const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const APPROVE =
  "https://approve.example.com/approvals/AbCdEfGhIjKlMnOpQrStUv_-?action=approve&approver=alice%40example.com&exp=1793534400&kid=k-abc&sig=xyz";
const REJECT = APPROVE.replace("action=approve", "action=reject");

function record(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: "AbCdEfGhIjKlMnOpQrStUv_-",
    stage: "prod",
    service: "hello-service",
    version: "3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e",
    sha256: SHA,
    artifactKey: "hello-service/3f2a9c1e0b7d.zip",
    commitUrl:
      "https://github.com/acme/hello-service/commit/3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e",
    execution: {
      id: "arn:aws:states:eu-west-1:1:execution:gantry:hello-1",
      name: "hello-1",
      startedAt: "2026-11-22T09:00:00.000Z",
    },
    trigger: { actor: "octocat", ciRunUrl: "https://ci.example.com/runs/42" },
    approvers: ["alice@example.com", "bob@example.com"],
    requestedAt: "2026-11-01T12:00:00.000Z",
    expiresAt: "2026-11-01T13:00:00.000Z",
    preprod: {
      required: true,
      validatedAt: "2026-11-01T11:00:00.000Z",
      validatedBy: "ci-bot",
      ciRunUrl: "https://ci.example.com/runs/41",
      preprodVersion: "7",
      alarms: [],
    },
    rollout: {
      steps: [10, 25, 50],
      stepWaitSeconds: 60,
      bakeSeconds: 600,
      alarms: ["hello-prod-errors", "hello-prod-latency"],
    },
    ...overrides,
  };
}

/** Every claim a GitHub Actions ID token can carry, as ValidateInput verified them. */
const VERIFIED = verifiedTrigger({
  subject: "repo:acme/hello-service:environment:prod",
  repositoryId: "123456",
  sha: "3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e",
  actor: "octocat",
  workflow: "release",
  workflowRef: "acme/hello-service/.github/workflows/release.yml@refs/heads/main",
  eventName: "push",
  environment: "prod",
  runId: "9876543210",
  runAttempt: "2",
});

function email(r: ApprovalRecord = record(), approveUrl = APPROVE, rejectUrl = REJECT) {
  return approvalEmail({
    record: r,
    approver: "alice@example.com",
    approveUrl,
    rejectUrl,
    from: "gantry@example.com",
  });
}

describe("approvalEmail", () => {
  it("is addressed to the one approver, from the sender", () => {
    const message = email();
    expect(message.to).toEqual(["alice@example.com"]);
    expect(message.from).toBe("gantry@example.com");
  });

  it("names the service, the short version and the stage in the subject", () => {
    expect(email().subject).toBe("[Gantry] Approve hello-service 3f2a9c1e0b7d for prod?");
  });

  it("opens both bodies with who wants to deploy what where", () => {
    const message = email();
    expect(message.text.split("\n")[0]).toBe(
      "octocat wants to deploy hello-service 3f2a9c1e0b7d to prod.",
    );
    expect(message.html).toContain(
      "octocat wants to deploy hello-service 3f2a9c1e0b7d to prod</h1>",
    );
  });

  it("lays out the plain-text body: summary, facts, links, then how the links work", () => {
    expect(email().text.split("\n")).toEqual([
      "octocat wants to deploy hello-service 3f2a9c1e0b7d to prod.",
      "",
      ...approvalFacts(record()).map(([label, value]) => `${label}: ${value}`),
      "",
      `Approve: ${APPROVE}`,
      `Reject:  ${REJECT}`,
      "",
      "Each link opens a confirmation page; nothing is decided until you confirm there.",
      "The links are for alice@example.com only and expire at 2026-11-01T13:00:00.000Z.",
    ]);
  });

  it("puts the approve and reject links in the text as they are", () => {
    const { text } = email();
    expect(text).toContain(`Approve: ${APPROVE}\n`);
    expect(text).toContain(`Reject:  ${REJECT}\n`);
  });

  it("puts the approve and reject links in the HTML as attribute-escaped hrefs", () => {
    const { html } = email();
    expect(html).toContain(`<a href="${escapeHtml(APPROVE)}"`);
    expect(html).toContain(`<a href="${escapeHtml(REJECT)}"`);
    expect(html).toContain("&amp;approver=alice%40example.com");
  });

  it.each([
    ["the full version", "Version: 3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e"],
    ["the SHA-256", `SHA-256: ${SHA}`],
    ["the artifact key", "Artifact: hello-service/3f2a9c1e0b7d.zip"],
    [
      "the commit URL",
      "Commit: https://github.com/acme/hello-service/commit/3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e",
    ],
    ["the CI run", "CI run: https://ci.example.com/runs/42"],
    ["who triggered it", "Triggered by: octocat (unverified claim: no ID token)\n"],
    [
      "the preprod evidence",
      "Preprod evidence: validated by ci-bot at 2026-11-01T11:00:00.000Z; preprod serves these " +
        "bytes as version 7; preprod alarms OK (https://ci.example.com/runs/41)",
    ],
    ["the rollout plan", "Rollout: 10% → 25% → 50% → 100%, each step held 1 min, bake 10 min"],
    ["the watched alarms", "Watched alarms: hello-prod-errors, hello-prod-latency"],
    ["the execution", "Execution: hello-1"],
    [
      "the approver and expiry",
      "The links are for alice@example.com only and expire at 2026-11-01T13:00:00.000Z.",
    ],
  ])("states %s in the text", (_label, line) => {
    expect(email().text).toContain(line);
  });

  it("shows every fact in the HTML table too", () => {
    const { html } = email();
    for (const [label, value] of approvalFacts(record())) {
      expect(html).toContain(`>${escapeHtml(label)}</th><td`);
      expect(html).toContain(`>${escapeHtml(value)}</td></tr>`);
    }
    expect(html).toContain("10% → 25% → 50% → 100%, each step held 1 min, bake 10 min");
  });

  it('escapes hostile values in the HTML: <, >, " and &', () => {
    const hostile = record({
      service: "svc<b>",
      artifactKey: 'a&b"c.zip',
      commitUrl: 'https://git.example.com/"><script>alert(1)</script>',
      trigger: { actor: "o'neil<i>", ciRunUrl: "https://ci.example.com/?a=1&b=<2>" },
    });
    const { html, text } = email(hostile, 'https://a.example.com/"onclick="x', REJECT);
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<b>");
    expect(html).not.toContain("<i>");
    expect(html).not.toContain('"onclick="');
    expect(html).toContain(
      "https://git.example.com/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
    );
    expect(html).toContain("a&amp;b&quot;c.zip");
    expect(html).toContain("o&#39;neil&lt;i&gt; wants to deploy svc&lt;b&gt;");
    expect(html).toContain("https://ci.example.com/?a=1&amp;b=&lt;2&gt;");
    expect(html).toContain('href="https://a.example.com/&quot;onclick=&quot;x"');
    // The plain-text body is not HTML: it keeps the values as they are.
    expect(text).toContain('Commit: https://git.example.com/"><script>alert(1)</script>');
  });

  it("states preprod evidence without a CI run as it is, with nothing appended", () => {
    const { text } = email(
      record({
        preprod: {
          required: true,
          validatedAt: "2026-11-01T11:00:00.000Z",
          validatedBy: "ci-bot",
          preprodVersion: "7",
          alarms: [],
        },
      }),
    );
    expect(text).toContain(
      "Preprod evidence: validated by ci-bot at 2026-11-01T11:00:00.000Z; preprod serves these " +
        "bytes as version 7; preprod alarms OK\n",
    );
  });

  it("says when preprod evidence is not required", () => {
    const { text } = email(record({ preprod: { required: false } }));
    expect(text).toContain("Preprod evidence: not required for this stage");
  });

  it("says when preprod evidence is absent", () => {
    const { preprod: _omitted, ...rest } = record();
    expect(email(rest).text).toContain("Preprod evidence: not required for this stage");
  });

  it("leaves out the commit and CI run rows when there are none", () => {
    const { commitUrl: _omitted, ...rest } = record();
    const { text } = email({ ...rest, trigger: { actor: "octocat" } });
    expect(text).not.toContain("Commit:");
    expect(text).not.toContain("CI run:");
  });

  it("describes a rollout without traffic steps as 100% at once", () => {
    const r = record({
      rollout: { steps: [], stepWaitSeconds: 90, bakeSeconds: 7200, alarms: [] },
    });
    const { text } = email(r);
    expect(text).toContain("Rollout: 100% at once, each step held 90 s, bake 2 h");
    expect(text).toContain("Watched alarms: (none)");
  });
});

describe("approvalFacts", () => {
  it("lists the facts in reading order", () => {
    expect(approvalFacts(record()).map(([label]) => label)).toEqual([
      "Service",
      "Stage",
      "Version",
      "Commit",
      "Artifact",
      "SHA-256",
      "Preprod evidence",
      "Triggered by",
      "CI run",
      "Rollout",
      "Watched alarms",
      "Execution",
      "Expires",
    ]);
  });

  it("formats durations in seconds, minutes or hours, whichever is whole", () => {
    const at = (stepWaitSeconds: number, bakeSeconds: number) =>
      approvalFacts(
        record({ rollout: { steps: [50], stepWaitSeconds, bakeSeconds, alarms: [] } }),
      ).find(([label]) => label === "Rollout")?.[1];
    expect(at(60, 3600)).toBe("50% → 100%, each step held 1 min, bake 1 h");
    expect(at(30, 5400)).toBe("50% → 100%, each step held 30 s, bake 90 min");
    expect(at(0.25, 61)).toBe("50% → 100%, each step held 0.3 s, bake 61 s");
    expect(at(0, 0)).toBe("50% → 100%, each step held 0 s, bake 0 s");
  });
});

describe("the Triggered by row", () => {
  it("says an actor without verified claims is only the caller's word", () => {
    const facts = approvalFacts(record({ trigger: { actor: "octocat" } }));
    expect(facts.find(([label]) => label === "Triggered by")?.[1]).toBe(
      "octocat (unverified claim: no ID token)",
    );
  });

  it("shows every verified claim, the full commit and the issuer, with the verified actor", () => {
    const facts = approvalFacts(record({ trigger: { actor: "claimed", verified: VERIFIED } }));
    expect(facts.find(([label]) => label === "Triggered by")?.[1]).toBe(
      "octocat — verified by https://token.actions.githubusercontent.com: " +
        "acme/hello-service@refs/heads/main, commit 3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e, " +
        "workflow acme/hello-service/.github/workflows/release.yml@refs/heads/main, " +
        "run 9876543210 (attempt 2), event push, environment prod, repository id 123456",
    );
  });
});

describe("the trigger in the approval email", () => {
  it("states the verified claims in the text and the HTML", () => {
    const message = email(record({ trigger: { actor: "octocat", verified: VERIFIED } }));
    const line = `Triggered by: ${triggerText({ actor: "octocat", verified: VERIFIED }, "full")}`;
    expect(message.text.split("\n")).toContain(line);
    expect(message.html).toContain(
      `>Triggered by</th><td style="font-family:ui-monospace,monospace;word-break:break-all">${escapeHtml(triggerText({ actor: "octocat", verified: VERIFIED }, "full"))}</td>`,
    );
  });

  it("escapes hostile verified claims: HTML in the HTML, controls and bidi everywhere", () => {
    const hostile: VerifiedTrigger = {
      ...VERIFIED,
      ref: "refs/heads/<script>x</script>",
      workflowRef: "acme/app/.github/workflows/a.yml\r\nApprove: https://evil.example",
      environment: "prod\u202Egnp.exe",
    };
    const message = email(record({ trigger: { actor: "octocat", verified: hostile } }));
    expect(message.html).not.toContain("<script>");
    expect(message.html).toContain("@refs/heads/&lt;script&gt;x&lt;/script&gt;");
    for (const body of [message.text, message.html]) {
      expect(body).not.toContain("\u202E");
      expect(body).toContain("environment prod\\u{202E}gnp.exe");
      expect(body).toContain("a.yml\\u{000D}\\u{000A}Approve: https://evil.example");
    }
    expect(message.text).not.toMatch(/^Approve: https:\/\/evil/m);
  });
});

describe("the approval email of a fix deployed during an incident", () => {
  const SINCE = "2026-11-01T11:40:00.000Z";
  const fixed = record({
    fix: {
      alarms: [{ name: "hello-prod-errors", since: SINCE, metricName: "Errors" }],
      metric: "errors",
      previousVersion: "4",
    },
  });
  const line =
    `Deploying during an incident: a fix for hello-prod-errors (in ALARM since ${SINCE}); ` +
    "the version analysis judges it, not that alarm: it must do better than version 4 on the failure rate";

  it("says so in the subject", () => {
    expect(email(fixed).subject).toBe(
      "[Gantry] Approve hello-service 3f2a9c1e0b7d for prod (incident fix)?",
    );
  });

  it("says so first in the text, then among the facts, with the fixed alarm left unwatched", () => {
    const lines = email(fixed).text.split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "octocat wants to deploy hello-service 3f2a9c1e0b7d to prod.",
      "",
      `${line}.`,
      "",
    ]);
    expect(lines).toContain(`Incident fix: ${line}`);
    expect(lines).toContain(
      "Watched alarms: hello-prod-errors, hello-prod-latency (not hello-prod-errors: this deployment fixes it)",
    );
  });

  it("says so in the HTML, above the facts", () => {
    const { html } = email(fixed);
    const notice = html.indexOf(`<strong>${line}.</strong>`);
    expect(notice).toBeGreaterThan(html.indexOf("</h1>"));
    expect(notice).toBeLessThan(html.indexOf("<table"));
    expect(html).toContain(`>Incident fix</th><td`);
  });

  it("puts the fix right after the version in the facts", () => {
    expect(
      approvalFacts(fixed)
        .map(([label]) => label)
        .slice(0, 4),
    ).toEqual(["Service", "Stage", "Version", "Incident fix"]);
  });

  it("says nothing about incidents for an ordinary deployment", () => {
    const message = email();
    for (const part of [message.subject, message.text, message.html])
      expect(part).not.toMatch(/incident/i);
  });
});
