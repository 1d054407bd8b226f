/**
 * The key sets' Secrets Manager values, as plain data: the JSON the functions read at run time
 * (checked by reading it back with `secretsManagerKeys` itself), and the mistakes refused
 * before anything is deployed.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { KEY_SECRETS, secretsManagerKeys } from "@gantry/aws";
import { type KeyPair, keySecretValues } from "@gantry/stacks/approval";
import { keySecretName } from "@gantry/stacks/names";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";

const LINK = "l".repeat(44);
const LINK_OLD = "m".repeat(44);
const DECISION = "d".repeat(44);
const DECISION_OLD = "e".repeat(44);
const none = (current: string): KeyPair => ({ current, previous: "" });

/** What a function reads from a secret holding `value`, through the real reader. */
async function readBack(which: "links" | "decisions", value: string) {
  const client = new SecretsManagerClient({ region: "us-east-1" });
  const mock = mockClient(client);
  mock.on(GetSecretValueCommand).resolves({ SecretString: value });
  const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-Ab12Cd";
  const keys = await secretsManagerKeys(which, {
    client,
    env: { [KEY_SECRETS[which].setting]: arn },
  }).signingKeys();
  expect(mock.commandCalls(GetSecretValueCommand)[0]?.args[0].input.SecretId).toBe(arn);
  return keys;
}

describe("the key secrets", () => {
  it("are named per stage and key set", () => {
    expect(keySecretName("prod", "links")).toBe("gantry-prod-link-keys");
    expect(keySecretName("prod", "decisions")).toBe("gantry-prod-decision-keys");
    expect(keySecretName("preprod", "decisions")).toBe("gantry-preprod-decision-keys");
  });

  it("hold JSON {current, previous} that the functions read back as the same keys", async () => {
    const values = keySecretValues({
      links: { current: LINK, previous: LINK_OLD },
      decisions: none(DECISION),
    });
    expect(JSON.parse(values.links)).toEqual({ current: LINK, previous: LINK_OLD });
    expect(JSON.parse(values.decisions)).toEqual({ current: DECISION, previous: "" });
    const links = await readBack("links", values.links);
    expect(links.current.secret).toBe(LINK);
    expect(links.previous.map((k) => k.secret)).toEqual([LINK_OLD]);
    const decisions = await readBack("decisions", values.decisions);
    expect(decisions.current.secret).toBe(DECISION);
    expect(decisions.previous).toEqual([]);
  });

  it("refuse a current key shorter than 32 characters, naming the SST secret", () => {
    expect(() => keySecretValues({ links: none("short"), decisions: none(DECISION) })).toThrow(
      /^ApprovalSigningKey must be at least 32 characters/,
    );
    expect(() => keySecretValues({ links: none(LINK), decisions: none("x".repeat(31)) })).toThrow(
      /^ApprovalDecisionKey must be at least 32 characters/,
    );
  });

  it("refuse a previous key that is set but short (the functions would silently drop it)", () => {
    expect(() =>
      keySecretValues({ links: { current: LINK, previous: "old" }, decisions: none(DECISION) }),
    ).toThrow(/^ApprovalSigningKeyPrevious must be empty or at least 32 characters/);
    expect(() =>
      keySecretValues({ links: none(LINK), decisions: { current: DECISION, previous: "old" } }),
    ).toThrow(/^ApprovalDecisionKeyPrevious must be empty or at least 32 characters/);
  });

  it("refuse a decision key equal to a link key: approval-gate holds the link keys", () => {
    const cases: [Record<"links" | "decisions", KeyPair>, RegExp][] = [
      [{ links: none(LINK), decisions: none(LINK) }, /^ApprovalDecisionKey must differ/],
      [
        { links: { current: LINK, previous: LINK_OLD }, decisions: none(LINK_OLD) },
        /^ApprovalDecisionKey must differ/,
      ],
      [
        { links: none(LINK), decisions: { current: DECISION, previous: LINK } },
        /^ApprovalDecisionKeyPrevious must differ/,
      ],
    ];
    for (const [keys, message] of cases) expect(() => keySecretValues(keys)).toThrow(message);
    // Rotating within a set is fine.
    expect(() =>
      keySecretValues({
        links: { current: LINK, previous: LINK_OLD },
        decisions: { current: DECISION, previous: DECISION_OLD },
      }),
    ).not.toThrow();
  });

  it("never put a key in an error message", () => {
    const secretLooking = "s".repeat(20);
    for (const keys of [
      { links: none(secretLooking), decisions: none(DECISION) },
      { links: none(LINK), decisions: none(LINK) },
    ]) {
      try {
        keySecretValues(keys);
        expect.unreachable();
      } catch (error) {
        const message = (error as Error).message;
        expect(message).not.toContain(secretLooking);
        expect(message).not.toContain(LINK);
      }
    }
  });
});
