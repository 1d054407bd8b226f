import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Registry, Stage } from "@gantry/core";
import { ConfigError, type InfraConfig, readConfig } from "@gantry/stacks/config";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";

/**
 * The stage's settings as `sst deploy` read them (`stacks/config.ts`), so doctor checks the
 * roles, sender and state bucket that were deployed: from doctor's options, else the
 * environment, else `.env.<stage>`, else `.env` at the project root (the files SST loads).
 */

/** Doctor's options and the settings they stand for. */
export const SETTING_OPTIONS: Readonly<Record<string, string>> = {
  sender: "GANTRY_SENDER",
  "sender-identity": "GANTRY_SENDER_IDENTITY",
  "state-bucket": "GANTRY_STATE_BUCKET",
  "preprod-role-arn": "GANTRY_PREPROD_ROLE_ARN",
};

/**
 * The variables of a `.env` file: `KEY=value` lines, optionally `export `-prefixed, values
 * optionally quoted; `#` starts a comment (outside quotes).
 *
 * @example
 * ```ts
 * parseDotenv('GANTRY_SENDER="gantry@acme.dev" # approvals\n'); // { GANTRY_SENDER: "gantry@acme.dev" }
 * ```
 */
export function parseDotenv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(raw);
    if (!match) continue;
    const [, key = "", rest = ""] = match;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      const end = rest.indexOf(quote, 1);
      const inner = end === -1 ? rest.slice(1) : rest.slice(1, end);
      values[key] = quote === '"' ? inner.replaceAll("\\n", "\n") : inner;
    } else {
      values[key] = rest.replace(/\s+#.*$/, "").trim();
    }
  }
  return values;
}

function readDotenv(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  try {
    return parseDotenv(readFileSync(file, "utf8"));
  } catch {
    return {};
  }
}

/**
 * The stage's settings, checked as `sst deploy` checks them. A setting `sst deploy` would
 * refuse (or a missing GANTRY_SENDER where the registry asks for approvals) is exit 2.
 *
 * @example
 * ```ts
 * const { config } = stageSettings({ stage: "prod", registry, env: process.env, root: ".", options: { sender: "gantry@acme.dev" } });
 * ```
 */
export function stageSettings(input: {
  readonly stage: Stage;
  readonly registry: Registry;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The project root, where `.env` and `.env.<stage>` are. */
  readonly root: string;
  readonly options: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
}): { config: InfraConfig; files: string[] } {
  const files = [".env", `.env.${input.stage}`].map((name) => join(input.root, name));
  const fromFiles = files.map(readDotenv);
  const fromOptions: Record<string, string> = {};
  for (const [option, variable] of Object.entries(SETTING_OPTIONS)) {
    const value = input.options[option];
    if (typeof value === "string" && value.trim() !== "") fromOptions[variable] = value.trim();
  }
  const env: Record<string, string | undefined> = Object.assign(
    {},
    ...fromFiles,
    input.env,
    fromOptions,
  );
  try {
    return {
      config: readConfig(input.stage, env, input.registry),
      files: files.filter((file) => existsSync(file)),
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const option = Object.entries(SETTING_OPTIONS).find(([, variable]) =>
      new RegExp(`^${variable}\\b`).test(error.message),
    )?.[0];
    throw new CliError(ExitCode.Usage, error.message, [
      `doctor needs the settings the stage was deployed with${option ? `: pass --${option}, or` : ":"} set them in the environment or in .env.${input.stage} (docs/deploy.md, Settings)`,
    ]);
  }
}
