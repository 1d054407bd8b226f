/** doctor's secret checks (secrets.ts) over a mocked Secrets Manager. */
import { DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { checkSecret } from "./secrets.ts";
import { awsError, doctorClients } from "./testing.ts";

const secrets = mockClient(SecretsManagerClient);

const clients = doctorClients();

beforeEach(() => {
  secrets.reset();
});

describe("checkSecret", () => {
  const secret = { name: "gantry-prod-link-keys", set: "links" as const };
  const changed = new Date("2026-11-30T10:00:00Z");

  it("passes a secret with a current version, never reading its value", async () => {
    secrets.on(DescribeSecretCommand).resolves({
      Name: secret.name,
      LastChangedDate: changed,
      VersionIdsToStages: { a: ["AWSPREVIOUS"], b: ["AWSCURRENT"] },
    });
    expect(await checkSecret(clients.secrets, secret, "prod")).toEqual({
      check: "secret",
      subject: "gantry-prod-link-keys",
      status: "ok",
      message: "set (last changed 2026-11-30T10:00:00.000Z)",
    });
    expect(secrets.calls().map((c) => c.args[0].constructor.name)).toEqual([
      "DescribeSecretCommand",
    ]);
  });

  it("fails a missing secret, one without a current value, one being deleted", async () => {
    secrets.on(DescribeSecretCommand).rejects(awsError("ResourceNotFoundException", 400));
    const missing = await checkSecret(clients.secrets, secret, "prod");
    expect(missing).toMatchObject({ status: "fail", message: "does not exist" });
    expect(missing.fix).toContain("npx sst secret set ApprovalSigningKey");

    secrets.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { a: ["AWSPENDING"] } });
    expect((await checkSecret(clients.secrets, secret, "prod")).message).toBe(
      "has no current value (no version labelled AWSCURRENT)",
    );

    secrets.on(DescribeSecretCommand).resolves({ DeletedDate: changed, VersionIdsToStages: {} });
    expect((await checkSecret(clients.secrets, secret, "prod")).message).toContain(
      "scheduled for deletion",
    );

    secrets.on(DescribeSecretCommand).rejects(awsError("AccessDeniedException", 400, "no"));
    expect((await checkSecret(clients.secrets, secret, "prod")).fix).toContain(
      "secretsmanager:DescribeSecret",
    );
  });
});
