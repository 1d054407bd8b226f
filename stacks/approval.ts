import { MIN_SIGNING_SECRET_LENGTH, type Stage } from "@gantry/core";
import { ConfigError } from "./config.ts";
import { type KeySet, keySecretName } from "./names.ts";

/**
 * What the approval step needs besides its functions: its two key sets and the SES identity
 * approval mail is sent from.
 *
 * - **Link keys** sign the approval links (approval-gate signs, approval-http verifies).
 * - **Decision keys** seal decision records (approval-http and approval-operator seal,
 *   VerifyApproval checks). approval-gate never holds them: it can ask for a decision, never
 *   make one.
 *
 * Each key set is typed in as SST secrets (a current key, and a previous one during a
 * rotation) and kept in AWS Secrets Manager as JSON `{"current": "...", "previous": "..."}`,
 * which `secretsManagerKeys` (packages/aws/src/secrets.ts) reads at run time. The functions'
 * environment names only the secret's ARN: keys in the environment could be read by anyone
 * allowed `lambda:GetFunctionConfiguration`.
 *
 * The approval pages themselves are `functions/approval-http.ts` behind a public Function URL
 * (the links are signed); the operator API is `functions/approval-operator.ts` behind an
 * `AWS_IAM` Function URL (see `functions.ts`).
 */

/** The SST secrets each key set is typed in as (`npx sst secret set <name> ...`). */
export const KEY_SET_SECRETS: Readonly<
  Record<KeySet, { readonly current: string; readonly previous: string; readonly what: string }>
> = {
  links: {
    current: "ApprovalSigningKey",
    previous: "ApprovalSigningKeyPrevious",
    what: "the approval link signing keys",
  },
  decisions: {
    current: "ApprovalDecisionKey",
    previous: "ApprovalDecisionKeyPrevious",
    what: "the approval decision keys",
  },
};

/** One key set as typed in: `previous` is empty except during a rotation. */
export interface KeyPair {
  readonly current: string;
  readonly previous: string;
}

/**
 * The Secrets Manager value of each key set: the JSON `secretsManagerKeys` reads. Refuses,
 * naming the SST secret and never a value, what the functions would refuse or silently ignore
 * at run time: a current key shorter than 32 characters, a previous key that is set but short,
 * and a decision key equal to a link key (approval-gate holds the link keys; with the same
 * key it could seal decisions).
 *
 * @example
 * ```ts
 * keySecretValues({
 *   links: { current: linkKey, previous: "" },
 *   decisions: { current: decisionKey, previous: "" },
 * }).decisions; // '{"current":"<decisionKey>","previous":""}'
 * ```
 */
export function keySecretValues(keys: Readonly<Record<KeySet, KeyPair>>): Record<KeySet, string> {
  for (const set of ["links", "decisions"] as const) {
    const names = KEY_SET_SECRETS[set];
    const { current, previous } = keys[set];
    if (current.length < MIN_SIGNING_SECRET_LENGTH) {
      throw new ConfigError(
        `${names.current} must be at least ${MIN_SIGNING_SECRET_LENGTH} characters ` +
          `(npx sst secret set ${names.current} "$(openssl rand -base64 32)")`,
      );
    }
    if (previous !== "" && previous.length < MIN_SIGNING_SECRET_LENGTH) {
      throw new ConfigError(
        `${names.previous} must be empty or at least ${MIN_SIGNING_SECRET_LENGTH} characters`,
      );
    }
  }
  const linkKeys = new Set([keys.links.current, keys.links.previous].filter((k) => k !== ""));
  for (const [which, key] of [
    ["current", keys.decisions.current],
    ["previous", keys.decisions.previous],
  ] as const) {
    if (key !== "" && linkKeys.has(key)) {
      const name = KEY_SET_SECRETS.decisions[which];
      throw new ConfigError(
        `${name} must differ from the link signing keys: approval-gate holds those, and ` +
          "must never be able to seal a decision",
      );
    }
  }
  const json = (pair: KeyPair) =>
    JSON.stringify({ current: pair.current, previous: pair.previous });
  return { links: json(keys.links), decisions: json(keys.decisions) };
}

/**
 * The SST secrets of both key sets. The previous keys default to empty, so they only need a
 * value while a rotation is under way (docs/deploy.md).
 *
 * @example
 * ```ts
 * const secrets = keySetSecrets(); // npx sst secret set ApprovalDecisionKey "$(openssl rand -base64 32)" --stage prod
 * ```
 */
export function keySetSecrets(): Record<KeySet, { current: sst.Secret; previous: sst.Secret }> {
  const pair = (set: KeySet) => ({
    current: new sst.Secret(KEY_SET_SECRETS[set].current),
    previous: new sst.Secret(KEY_SET_SECRETS[set].previous, ""),
  });
  return { links: pair("links"), decisions: pair("decisions") };
}

/**
 * Creates the stage's two Secrets Manager secrets (`gantry-<stage>-link-keys`,
 * `gantry-<stage>-decision-keys`) with their values from the SST secrets. Encrypted with the
 * account's `aws/secretsmanager` key, so reading needs `secretsmanager:GetSecretValue` only.
 * Deleted at once on `sst remove` (no recovery window): the values are rebuilt from the SST
 * secrets on every deploy, and a redeploy must not collide with a name scheduled for deletion.
 *
 * @example
 * ```ts
 * const keys = createKeySecrets("prod");
 * keys.decisions.secret.arn; // GANTRY_DECISION_KEYS_SECRET of the functions that read it
 * ```
 */
export function createKeySecrets(stage: Stage) {
  const secrets = keySetSecrets();
  const values = $resolve([
    secrets.links.current.value,
    secrets.links.previous.value,
    secrets.decisions.current.value,
    secrets.decisions.previous.value,
  ]).apply(([linkCurrent, linkPrevious, decisionCurrent, decisionPrevious]) =>
    keySecretValues({
      links: { current: linkCurrent, previous: linkPrevious },
      decisions: { current: decisionCurrent, previous: decisionPrevious },
    }),
  );
  const create = (set: KeySet, id: string) => {
    const secret = new aws.secretsmanager.Secret(id, {
      name: keySecretName(stage, set),
      description: `Gantry ${stage}: ${KEY_SET_SECRETS[set].what} (JSON: current, previous), from the SST secrets ${KEY_SET_SECRETS[set].current} and ${KEY_SET_SECRETS[set].previous}`,
      recoveryWindowInDays: 0,
    });
    const version = new aws.secretsmanager.SecretVersion(`${id}Value`, {
      secretId: secret.id,
      secretString: $util.secret(values.apply((v) => v[set])),
    });
    return { secret, version };
  };
  return { links: create("links", "LinkKeys"), decisions: create("decisions", "DecisionKeys") };
}

/**
 * The SES identity approval mail is sent from (an address, verified by a link SES mails to it,
 * or a domain, verified by the DKIM records in the output). Absent when the stage sends no mail.
 *
 * @example
 * ```ts
 * const sender = senderIdentity("gantry@acme.dev");
 * ```
 */
export function senderIdentity(identity: string | undefined) {
  if (!identity) return undefined;
  return new aws.sesv2.EmailIdentity("ApprovalSender", { emailIdentity: identity });
}
