/**
 * The approval pages an approver reads: what is being decided, the form that decides, and what
 * happened. Escaping and headers are tested with the endpoint (http.test.ts); these pin the
 * words, headings, buttons and form fields a person relies on.
 */
import { describe, expect, it } from "vitest";
import { verifiedTrigger } from "../testing/id-tokens.ts";
import { ApprovalRefused, type CheckedLink, type DecisionOutcome } from "./decide.ts";
import { confirmationPage, decidedPage, notFoundPage, refusedPage } from "./pages.ts";
import type { ApprovalDecisionRecord, ApprovalRecord } from "./record.ts";

const VERSION = "3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e";

const RECORD: ApprovalRecord = {
  id: "AbCdEfGhIjKlMnOpQrStUv_-",
  stage: "prod",
  service: "hello-service",
  version: VERSION,
  sha256: "a".repeat(64),
  artifactKey: "hello-service/3f2a9c1e0b7d.zip",
  execution: {
    id: "arn:aws:states:eu-west-1:1:execution:gantry:hello-1",
    name: "hello-1",
    startedAt: "2026-11-22T09:00:00.000Z",
  },
  trigger: { actor: "octocat" },
  approvers: ["alice@example.com", "bob@example.com"],
  requestedAt: "2026-11-22T09:01:00.000Z",
  expiresAt: "2026-11-22T10:01:00.000Z",
  rollout: { steps: [], stepWaitSeconds: 60, bakeSeconds: 600, alarms: [] },
};

const LINK = { kid: "k-abc", sig: "S".repeat(43) };

function view(action: "approve" | "reject"): CheckedLink {
  return {
    record: RECORD,
    claims: {
      approvalId: RECORD.id,
      action,
      approver: "alice@example.com",
      expiresAt: 1795000000,
    },
  };
}

function decision(overrides: Partial<ApprovalDecisionRecord> = {}): ApprovalDecisionRecord {
  return {
    approvalId: RECORD.id,
    decision: "approved",
    by: "alice@example.com",
    at: "2026-11-22T09:30:00.000Z",
    channel: "link",
    execution: RECORD.execution.id,
    executionStartedAt: RECORD.execution.startedAt,
    service: RECORD.service,
    stage: RECORD.stage,
    version: RECORD.version,
    sha256: RECORD.sha256,
    seal: { kid: "k-d", mac: "m" },
    ...overrides,
  };
}

const outcome = (d: Partial<ApprovalDecisionRecord> = {}): DecisionOutcome => ({
  record: RECORD,
  decision: decision(d),
});

const title = (page: string) => page.match(/<title>(.*)<\/title>/)?.[1];
const h1 = (page: string) => page.match(/<h1>(.*)<\/h1>/)?.[1];

describe("confirmationPage", () => {
  it.each([
    ["approve", "Approve", "approve"],
    ["reject", "Reject", "reject"],
  ] as const)(
    "for a link to %s names the action in title, heading and button",
    (action, verb, cls) => {
      const page = confirmationPage(view(action), "/approvals/x", LINK);
      expect(title(page)).toBe(`${verb} hello-service 3f2a9c1e0b7d · Gantry`);
      expect(h1(page)).toBe(`${verb} the deployment of hello-service 3f2a9c1e0b7d to prod?`);
      expect(page).toContain(`<button type="submit" class="${cls}">${verb} deployment</button>`);
    },
  );

  it("posts the link's own parameters and an optional comment back to the given path", () => {
    const page = confirmationPage(view("reject"), "/approvals/AbCdEfGhIjKlMnOpQrStUv_-", LINK);
    expect(page).toContain('<form method="post" action="/approvals/AbCdEfGhIjKlMnOpQrStUv_-">');
    const hidden = [...page.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map(
      ([, name, value]) => [name, value],
    );
    expect(hidden).toEqual([
      ["action", "reject"],
      ["approver", "alice@example.com"],
      ["exp", "1795000000"],
      ["kid", "k-abc"],
      ["sig", LINK.sig],
    ]);
    expect(page).toContain(
      '<label for="comment">Comment (optional, kept with the decision)</label>',
    );
    expect(page).toContain('<textarea id="comment" name="comment" maxlength="1000"></textarea>');
    expect(page).toContain("You are deciding as <strong>alice@example.com</strong>.");
    expect(page).toContain(`It expires at ${RECORD.expiresAt}.`);
  });
});

describe("a fix deployed during an incident on the confirmation page", () => {
  const fix = {
    alarms: [{ name: "hello-prod-errors", since: "2026-11-22T08:40:00.000Z" }],
    metric: "errors" as const,
    previousVersion: "4",
  };
  const line =
    "Deploying during an incident: a fix for hello-prod-errors (in ALARM since 2026-11-22T08:40:00.000Z); " +
    "the version analysis judges it, not that alarm: it must do better than version 4 on the failure rate";

  it("says so in a notice above the facts, and again in the table", () => {
    const page = confirmationPage(
      { ...view("approve"), record: { ...RECORD, fix } },
      "/approvals/x",
      LINK,
    );
    const notice = `<div class="notice warn" role="note"><p><strong>${line}.</strong></p></div>`;
    expect(page).toContain(notice);
    expect(page.indexOf(notice)).toBeLessThan(page.indexOf("<table>"));
    expect(page).toContain(`<tr><th scope="row">Incident fix</th><td>${line}</td></tr>`);
  });

  it("shows no notice for an ordinary deployment", () => {
    const page = confirmationPage(view("approve"), "/approvals/x", LINK);
    expect(page).not.toContain("Deploying during an incident");
    expect(page).not.toContain('role="note"');
  });

  it("escapes a hostile alarm name", () => {
    const hostile = {
      ...fix,
      alarms: [{ name: "<script>x</script>", since: fix.alarms[0]?.since ?? "" }],
    };
    const page = confirmationPage(
      { ...view("approve"), record: { ...RECORD, fix: hostile } },
      "/approvals/x",
      LINK,
    );
    expect(page).not.toContain("<script>x");
    expect(page).toContain("a fix for &lt;script&gt;x&lt;/script&gt; (in ALARM since");
  });
});

describe("the trigger on the confirmation page", () => {
  const verified = verifiedTrigger({ sha: VERSION, actor: "dependabot[bot]", runId: "42" });

  it("says an unverified actor is only the caller's claim, in the summary and the table", () => {
    const page = confirmationPage(view("approve"), "/approvals/x", LINK);
    expect(page).toContain(
      "<p>octocat asked for this deployment (unverified: the caller&#39;s claim, no ID token). You are deciding as",
    );
    expect(page).toContain(
      '<tr><th scope="row">Triggered by</th><td>octocat (unverified claim: no ID token)</td></tr>',
    );
  });

  it("says a verified actor is verified, and lists the verified claims in the table", () => {
    const checked = view("approve");
    const record = { ...checked.record, trigger: { actor: "dependabot[bot]", verified } };
    const page = confirmationPage({ ...checked, record }, "/approvals/x", LINK);
    expect(page).toContain(
      "<p>dependabot[bot] asked for this deployment (verified by an ID token: see Triggered by). You are deciding as",
    );
    expect(page).toContain(
      `<tr><th scope="row">Triggered by</th><td>dependabot[bot] — verified by https://token.actions.githubusercontent.com: acme/hello-service@refs/heads/main, commit ${VERSION}, run 42</td></tr>`,
    );
  });

  it("escapes a hostile claimed actor in the summary", () => {
    const checked = view("approve");
    const record = { ...checked.record, trigger: { actor: "<b>eve\u202E</b>" } };
    const page = confirmationPage({ ...checked, record }, "/approvals/x", LINK);
    expect(page).toContain("<p>&lt;b&gt;eve\\u{202E}&lt;/b&gt; asked for this deployment");
    expect(page).not.toContain("<b>eve");
  });
});

describe("decidedPage", () => {
  it("after an approval says it goes on, in an ok notice", () => {
    const page = decidedPage(outcome());
    expect(title(page)).toBe("Approved · Gantry");
    expect(page).toContain('<div class="notice ok" role="status">');
    expect(h1(page)).toBe("Approved: hello-service 3f2a9c1e0b7d to prod");
    expect(page).toContain(
      "<p>The deployment carries on: your decision is verified, the artifact is copied, then rolled out step by step under its alarms.</p>",
    );
  });

  it("after a rejection says it stops and nothing changed, in a bad notice", () => {
    const page = decidedPage(outcome({ decision: "rejected", by: "bob@example.com" }));
    expect(title(page)).toBe("Rejected · Gantry");
    expect(page).toContain('<div class="notice bad" role="status">');
    expect(h1(page)).toBe("Rejected: hello-service 3f2a9c1e0b7d to prod");
    expect(page).toContain("<p>The deployment stops here; nothing was changed in prod.</p>");
    expect(page).toContain('<tr><th scope="row">Decided by</th><td>bob@example.com</td></tr>');
  });

  it("shows the comment only when there is one", () => {
    expect(decidedPage(outcome({ comment: "ship <it>" }))).toContain(
      '<tr><th scope="row">Comment</th><td>ship &lt;it&gt;</td></tr>\n<tr><th scope="row">Execution</th>',
    );
    expect(decidedPage(outcome())).toContain(
      '<tr><th scope="row">At</th><td>2026-11-22T09:30:00.000Z</td></tr>\n\n<tr><th scope="row">Execution</th><td>hello-1</td></tr>',
    );
  });
});

describe("refusedPage", () => {
  it("for a replay (409) warns and says who decided and when", () => {
    const page = refusedPage(
      new ApprovalRefused(409, "Already decided", "already approved", decision()),
    );
    expect(title(page)).toBe("Already decided · Gantry");
    expect(page).toContain('<div class="notice warn" role="alert">');
    expect(page).toContain(
      '<table><tbody><tr><th scope="row">Decision</th><td>approved</td></tr><tr><th scope="row">By</th><td>alice@example.com</td></tr><tr><th scope="row">At</th><td>2026-11-22T09:30:00.000Z</td></tr></tbody></table>',
    );
    expect(page).toContain('<p class="muted">Nothing was changed by opening this page.</p>');
  });

  it.each([400, 403, 404, 410] as const)(
    "for a %i is a bad notice with no decision table",
    (status) => {
      const page = refusedPage(new ApprovalRefused(status, "No", "Not this link."));
      expect(page).toContain(
        '<div class="notice bad" role="alert">\n<h1>No</h1>\n<p>Not this link.</p>\n</div>\n\n<p class="muted">',
      );
      expect(page).not.toContain("<table>");
    },
  );
});

describe("notFoundPage", () => {
  it("says this is not an approval link", () => {
    const page = notFoundPage();
    expect(title(page)).toBe("Not found · Gantry");
    expect(page).toContain("<h1>Not found</h1><p>This is not an approval link.</p>");
  });
});
