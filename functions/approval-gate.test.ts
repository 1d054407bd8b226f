/**
 * The approval gate's (ApprovalGate's) real exported `handler` over mocked AWS SDK clients
 * (functions/testing.ts): the settings and the key it reads, the records it stores (the task token
 * apart), the signed links it mails, what it does in a stage without approvals, and the alarm
 * read that comes before all of it (the incident rules).
 */
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { SendEmailCommand } from "@aws-sdk/client-sesv2";
import { SendTaskSuccessCommand } from "@aws-sdk/client-sfn";
import { recordKeys, resolvePlan, signingKeysFrom, verifyApprovalLink } from "@gantry/core";
import { rejectionOf, SHA_A, verifiedTrigger } from "@gantry/core/testing";
import { beforeEach, describe, expect, it, vi } from "vitest";
import registry from "../gantry.registry.ts";
import { handler as approvalGate } from "./approval-gate.ts";
import {
  ARTIFACT_KEY,
  awsError,
  cloudwatch,
  context,
  EXECUTION,
  iso,
  NOW,
  PREPROD,
  REQUEST,
  STATE,
  STATE_BUCKET,
  s3,
  secretsManager,
  sentJson,
  ses,
  setUpHandlerTests,
  sfn,
} from "./testing.ts";

// Before the function module is imported (functions/testing.ts).
await vi.hoisted(async () => (await import("./testing.ts")).isolateEnvironment());

setUpHandlerTests();

describe("approval-gate", () => {
  const TOKEN = "AQCEAAAAKgAAAA-task-token-that-must-stay-secret-0123456789";
  const APPROVAL_URL = "https://approve.acme.dev";
  const SIGNING_KEY = "k".repeat(40);
  const LINK_KEYS_SECRET =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:gantry-prod-link-keys";
  const event = { ...STATE, preprod: PREPROD, taskToken: TOKEN };

  beforeEach(() => {
    vi.stubEnv("GANTRY_STATE_BUCKET", STATE_BUCKET);
    vi.stubEnv("GANTRY_APPROVAL_URL", APPROVAL_URL);
    vi.stubEnv("GANTRY_SENDER", "gantry@acme.dev");
    vi.stubEnv("GANTRY_LINK_KEYS_SECRET", LINK_KEYS_SECRET);
    secretsManager
      .on(GetSecretValueCommand, { SecretId: LINK_KEYS_SECRET })
      .resolves({ SecretString: JSON.stringify({ current: SIGNING_KEY, previous: "" }) });
    s3.on(GetObjectCommand).rejects(awsError("NoSuchKey", 404));
    s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
    ses.on(SendEmailCommand).resolves({ MessageId: "m-1" });
    sfn.on(SendTaskSuccessCommand).resolves({});
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarms("OK"));
  });

  // The handler's deps are built once per module (lazy): the tests that need settings left
  // unset run first, before any test has the settings built.

  /** DescribeAlarms' answer: the project registry's alarm of the stage, in `StateValue`. */
  const alarms = (StateValue: "OK" | "ALARM", stage: "prod" | "preprod" = "prod") => ({
    MetricAlarms: [
      {
        AlarmName: `hello-service-${stage}-errors`,
        MetricName: "Errors",
        StateValue,
        StateReason: `state ${StateValue}`,
        StateUpdatedTimestamp: new Date(NOW - 600_000),
      },
    ],
  });

  it("fails with ConfigurationError when GANTRY_SENDER is not set, before storing or sending anything", async () => {
    vi.stubEnv("GANTRY_SENDER", undefined);
    const error = await rejectionOf(approvalGate(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_SENDER");
    expect(s3.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it("in a stage without approvals, completes its task with none of the mail settings or keys", async () => {
    for (const name of [
      "GANTRY_SENDER",
      "GANTRY_APPROVAL_URL",
      "GANTRY_LINK_KEYS_SECRET",
      "GANTRY_STATE_BUCKET",
    ])
      vi.stubEnv(name, undefined);
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarms("OK", "preprod"));
    const preprod = resolvePlan(registry, "preprod", REQUEST, { timeScale: 1 });
    const result = await approvalGate({ ...event, plan: preprod }, context);
    expect(result).toEqual({ mode: "not-required", by: "policy:preprod" });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.taskToken).toBe(TOKEN);
    expect(s3.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it("fails with ConfigurationError naming the key's secret when the key is too short, storing nothing", async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: LINK_KEYS_SECRET })
      .resolves({ SecretString: JSON.stringify({ current: "too-short" }) });
    const error = await rejectionOf(approvalGate(event, context));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain("GANTRY_LINK_KEYS_SECRET");
    expect(error.message).not.toContain("too-short");
    expect(s3.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
  });

  it("reads the signing key from Secrets Manager, never from the environment", async () => {
    vi.stubEnv("GANTRY_SIGNING_KEY", "e".repeat(40));
    await approvalGate(event, context);
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: LINK_KEYS_SECRET,
    });
    const text =
      ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Content?.Simple?.Body?.Text?.Data ?? "";
    expect(new URL(/Approve: (\S+)/.exec(text)?.[1] ?? "").searchParams.get("kid")).toBe(
      signingKeysFrom(SIGNING_KEY).current.id,
    );
  });

  it("stores one approval for the execution, its token apart, and emails each approver signed links", async () => {
    const result = await approvalGate(event, context);
    if (result.mode !== "requested")
      throw new Error(`expected an approval request: ${result.mode}`);
    const id = result.approvalId;
    expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(result).toEqual({
      mode: "requested",
      approvalId: id,
      approvers: ["alice@example.com", "bob@example.com"],
      expiresAt: iso(NOW + 24 * 3_600_000),
      emailed: true,
    });

    // The execution's index (conditional), the token (replaced by a retry), the approval
    // (conditional), and the mark that every approver was emailed.
    const puts = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts.map((put) => [put.Bucket, put.Key, put.IfNoneMatch])).toEqual([
      [STATE_BUCKET, recordKeys.approvalOfExecution(EXECUTION), "*"],
      [STATE_BUCKET, `approval-tokens/${id}.json`, undefined],
      [STATE_BUCKET, `approvals/${id}.json`, "*"],
      [STATE_BUCKET, `approvals/${id}.notified.json`, "*"],
    ]);
    expect(sentJson(puts[1]?.Body)).toEqual({ approvalId: id, taskToken: TOKEN });
    expect(sentJson(puts[2]?.Body)).toMatchObject({
      id,
      stage: "prod",
      service: "hello-service",
      version: REQUEST.version,
      sha256: SHA_A,
      artifactKey: ARTIFACT_KEY,
      execution: { id: EXECUTION.id, name: EXECUTION.name, startedAt: EXECUTION.startedAt },
      approvers: ["alice@example.com", "bob@example.com"],
      requestedAt: iso(NOW),
      expiresAt: iso(NOW + 24 * 3_600_000),
      preprod: PREPROD,
    });
    for (const put of [puts[0], ...puts.slice(2)]) expect(String(put?.Body)).not.toContain(TOKEN);

    // One email per approver, links to the approval pages signed with the link key.
    const emails = ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input);
    expect(emails.map((email) => email.Destination?.ToAddresses)).toEqual([
      ["alice@example.com"],
      ["bob@example.com"],
    ]);
    const keys = signingKeysFrom(SIGNING_KEY);
    for (const [i, approver] of ["alice@example.com", "bob@example.com"].entries()) {
      const email = emails[i];
      expect(email?.FromEmailAddress).toBe("gantry@acme.dev");
      const text = email?.Content?.Simple?.Body?.Text?.Data ?? "";
      const html = email?.Content?.Simple?.Body?.Html?.Data ?? "";
      for (const part of [text, html]) {
        expect(part).toContain(`${APPROVAL_URL}/approvals/${id}?action=approve`);
        expect(part).toContain(`${APPROVAL_URL}/approvals/${id}?action=reject`);
      }
      for (const part of [text, html, email?.Content?.Simple?.Subject?.Data ?? ""])
        expect(part).not.toContain(TOKEN);
      const link = new URL(/Approve: (\S+)/.exec(text)?.[1] ?? "");
      const q = link.searchParams;
      const claims = verifyApprovalLink(
        {
          approvalId: id,
          action: q.get("action"),
          approver: q.get("approver"),
          exp: q.get("exp"),
          kid: q.get("kid"),
          sig: q.get("sig"),
        },
        keys,
        NOW,
      );
      expect(claims).toEqual({
        approvalId: id,
        action: "approve",
        approver,
        expiresAt: Math.floor((NOW + 24 * 3_600_000) / 1000),
      });
    }
    expect(sfn.calls()).toHaveLength(0);
  });

  it("auto-approves a verified trigger a rule matches: completes its task, with no key, record or email", async () => {
    for (const name of ["GANTRY_SENDER", "GANTRY_APPROVAL_URL", "GANTRY_LINK_KEYS_SECRET"])
      vi.stubEnv(name, undefined);
    const verified = verifiedTrigger({
      sha: REQUEST.version,
      actor: "dependabot[bot]",
      issuedAt: iso(NOW - 60_000),
      expiresAt: iso(NOW + 240_000),
    });
    const request = { ...REQUEST, trigger: { actor: "dependabot[bot]", verified } };
    const plan = resolvePlan(registry, "prod", request, { timeScale: 1 });
    const result = await approvalGate({ ...event, request, plan }, context);
    expect(result).toEqual({
      mode: "auto",
      rule: { index: 0, matched: "actor dependabot[bot], ref refs/heads/main" },
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      {
        taskToken: TOKEN,
        output: JSON.stringify({
          approved: true,
          how: "auto",
          by: "auto-approve rule 1",
          at: iso(NOW),
        }),
      },
    ]);
    expect(s3.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it("asks people even when the caller claims to be an auto-approved actor", async () => {
    const request = { ...REQUEST, trigger: { actor: "dependabot[bot]" } };
    const result = await approvalGate({ ...event, request }, context);
    expect(result).toMatchObject({ mode: "requested", emailed: true });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2);
  });

  it("refuses a deployment during an incident, after one alarm read and before anything else", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarms("ALARM"));
    const error = await rejectionOf(approvalGate(event, context));
    expect(error.name).toBe("AlarmTriggered");
    expect(error.message).toContain("`gantry deploy --fix-for hello-service-prod-errors`");
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toMatchObject({
      AlarmNames: ["hello-service-prod-errors"],
    });
    expect(s3.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it("refuses a fix for an alarm that is OK as InvalidInput, before anything else", async () => {
    const request = { ...REQUEST, fixFor: ["hello-service-prod-errors"] };
    const plan = resolvePlan(registry, "prod", request, { timeScale: 1 });
    const error = await rejectionOf(approvalGate({ ...event, request, plan }, context));
    expect(error.name).toBe("InvalidInput");
    expect(error.message).toContain("nothing to fix");
    expect(s3.calls()).toHaveLength(0);
    expect(ses.calls()).toHaveLength(0);
  });

  it("emails a fix during an incident as one, naming the alarm and the metric it is judged on", async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves(alarms("ALARM"));
    const request = { ...REQUEST, fixFor: ["hello-service-prod-errors"] };
    const plan = resolvePlan(registry, "prod", request, { timeScale: 1 });
    const result = await approvalGate({ ...event, request, plan }, context);
    expect(result).toMatchObject({
      mode: "requested",
      emailed: true,
      fix: {
        alarms: [
          { name: "hello-service-prod-errors", since: iso(NOW - 600_000), metricName: "Errors" },
        ],
        metric: "errors",
      },
    });
    const email = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(email?.Content?.Simple?.Subject?.Data).toContain("(incident fix)");
    expect(email?.Content?.Simple?.Body?.Text?.Data).toContain(
      `Deploying during an incident: a fix for hello-service-prod-errors (in ALARM since ${iso(NOW - 600_000)}); ` +
        "the version analysis judges it, not that alarm: it must do better than the version serving now on the failure rate.",
    );
  });
});
