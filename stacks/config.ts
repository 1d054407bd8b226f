import { type Registry, STAGES, type Stage } from "@gantry/core";

/**
 * Stage-aware settings of the infrastructure: everything that differs between a user's
 * accounts and is not policy (policy lives in `gantry.registry.ts`). Read from the environment
 * at deploy time; SST loads `.env` and `.env.<stage>` into it, so a stage's settings can live in
 * `.env.prod` / `.env.preprod` or in CI variables. See docs/deploy.md for every variable.
 *
 * Plain functions over plain data: no Pulumi, so the tests call them directly.
 */

export const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface InfraConfig {
  readonly stage: Stage;
  /** From address of approval emails (GANTRY_SENDER); required when the stage has approvals. */
  readonly sender?: string;
  /**
   * The SES identity the sender belongs to (GANTRY_SENDER_IDENTITY): the address itself
   * (default), or its domain to verify the whole domain with DNS records.
   */
  readonly senderIdentity?: string;
  /**
   * prod only (GANTRY_PREPROD_ROLE_ARN): the read-only role in the preprod account that
   * VerifyPreprod assumes. Unset means preprod lives in this same account.
   */
  readonly preprodRoleArn?: string;
  /**
   * preprod only (GANTRY_PROD_ACCOUNT_ID): the prod account allowed to assume the read role
   * and to copy artifacts out of the preprod bucket. Unset means no cross-account access.
   */
  readonly prodAccountId?: string;
  /** Powertools log level of every function (GANTRY_LOG_LEVEL, default INFO). */
  readonly logLevel: LogLevel;
  /** Name of the state bucket (GANTRY_STATE_BUCKET); default `gantry-state-<stage>-<account>-<region>`. */
  readonly stateBucket?: string;
  /** Addresses subscribed to deployment outcomes and alarms (GANTRY_NOTIFY_EMAILS, comma-separated). */
  readonly notifyEmails: readonly string[];
}

/** A setting that is wrong for this stage: the deploy stops before creating anything. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Accepts only Gantry's stages; SST would otherwise happily deploy a personal stage that no
 * registry section describes.
 *
 * @example
 * ```ts
 * checkStage("prod"); // "prod"
 * checkStage("dev"); // throws: Gantry deploys only to the stages preprod and prod ...
 * ```
 */
export function checkStage(stage: string): Stage {
  if ((STAGES as readonly string[]).includes(stage)) return stage as Stage;
  throw new ConfigError(
    `Gantry deploys only to the stages ${STAGES.join(" and ")}, not "${stage}": ` +
      "run `npx sst deploy --stage preprod` or `npx sst deploy --stage prod`",
  );
}

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,128}$/;
const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** True when any service asks for a human decision in this stage (so mail must go out). */
export function stageHasApprovals(registry: Registry, stage: Stage): boolean {
  return Object.values(registry.services).some((s) => s.stages[stage].approval !== undefined);
}

/**
 * Reads and checks the settings of one stage.
 *
 * @example
 * ```ts
 * const config = readConfig("prod", process.env, registry);
 * config.sender; // "gantry@acme.dev"
 * ```
 */
export function readConfig(
  stage: string,
  env: Readonly<Record<string, string | undefined>>,
  registry: Registry,
): InfraConfig {
  const checked = checkStage(stage);
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };

  const sender = value("GANTRY_SENDER");
  if (sender !== undefined && !EMAIL.test(sender))
    throw new ConfigError(`GANTRY_SENDER must be an email address, got "${sender}"`);
  if (sender === undefined && stageHasApprovals(registry, checked)) {
    throw new ConfigError(
      `GANTRY_SENDER is not set: the registry asks for approvals in ${checked}, so approval ` +
        "emails need a sender address (an SES identity is created for it)",
    );
  }

  const senderIdentity = value("GANTRY_SENDER_IDENTITY") ?? sender;
  if (senderIdentity !== undefined) {
    if (sender === undefined)
      throw new ConfigError("GANTRY_SENDER_IDENTITY is set but GANTRY_SENDER is not");
    const domainOfSender = sender.slice(sender.lastIndexOf("@") + 1).toLowerCase();
    const isAddress = senderIdentity.toLowerCase() === sender.toLowerCase();
    const isDomain = DOMAIN.test(senderIdentity) && senderIdentity.toLowerCase() === domainOfSender;
    if (!isAddress && !isDomain) {
      throw new ConfigError(
        `GANTRY_SENDER_IDENTITY must be the sender address or its domain (${domainOfSender}), got "${senderIdentity}"`,
      );
    }
  }

  const preprodRoleArn = value("GANTRY_PREPROD_ROLE_ARN");
  if (preprodRoleArn !== undefined) {
    if (checked !== "prod")
      throw new ConfigError("GANTRY_PREPROD_ROLE_ARN is a prod setting (VerifyPreprod runs there)");
    if (!ROLE_ARN.test(preprodRoleArn))
      throw new ConfigError(
        `GANTRY_PREPROD_ROLE_ARN must be an IAM role ARN, got "${preprodRoleArn}"`,
      );
  }

  const prodAccountId = value("GANTRY_PROD_ACCOUNT_ID");
  if (prodAccountId !== undefined) {
    if (checked !== "preprod")
      throw new ConfigError(
        "GANTRY_PROD_ACCOUNT_ID is a preprod setting (it grants prod read access)",
      );
    if (!ACCOUNT_ID.test(prodAccountId))
      throw new ConfigError(`GANTRY_PROD_ACCOUNT_ID must be 12 digits, got "${prodAccountId}"`);
  }

  const logLevel = (value("GANTRY_LOG_LEVEL") ?? "INFO").toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    throw new ConfigError(`GANTRY_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);

  const stateBucket = value("GANTRY_STATE_BUCKET");
  if (stateBucket !== undefined && !BUCKET.test(stateBucket))
    throw new ConfigError(`GANTRY_STATE_BUCKET must be an S3 bucket name, got "${stateBucket}"`);

  const notifyEmails = (value("GANTRY_NOTIFY_EMAILS") ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  for (const email of notifyEmails)
    if (!EMAIL.test(email))
      throw new ConfigError(`GANTRY_NOTIFY_EMAILS: "${email}" is not an address`);

  return {
    stage: checked,
    ...(sender ? { sender } : {}),
    ...(senderIdentity ? { senderIdentity } : {}),
    ...(preprodRoleArn ? { preprodRoleArn } : {}),
    ...(prodAccountId ? { prodAccountId } : {}),
    logLevel: logLevel as LogLevel,
    ...(stateBucket ? { stateBucket } : {}),
    notifyEmails,
  };
}
