import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import { STAGES, type Stage, stageOfStateMachine } from "@gantry/core";
import { stringOption } from "./args.ts";
import { CliError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { projectRoot } from "./registry.ts";
import { guardClientOutput } from "./remote-text.ts";

/** The local control plane's account and region: its ARNs look like AWS's. */
export const LOCAL_ARN_PREFIX = "arn:aws:states:us-east-1:000000000000";
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * Where the command's calls go: the local control plane (Step Functions and the S3 subset on one
 * port) or AWS. Either way the same SDK v3 clients; only their endpoint and credentials differ.
 */
export interface Target {
  readonly kind: "local" | "aws";
  readonly sfn: SFNClient;
  readonly s3: S3Client;
  /** The local control plane's Step Functions + S3 endpoint. */
  readonly endpoint?: string;
  /** The local control plane's web endpoint (approval pages, outbox, operator API). */
  readonly webEndpoint?: string;
  /** AWS: the operator Function URL (approve/reject), SigV4-signed with the caller's credentials. */
  readonly operatorUrl?: string;
  /** Local: the data directory, where the operator secret is (approve/reject). */
  readonly home?: string;
  /** How the target was chosen, for messages ("--endpoint", ".gantry/endpoints.json", ...). */
  readonly chosenBy: string;
  /** The stage's state machine ARN, or a usage error saying how to give it. */
  stateMachineArn(stage: Stage): string;
  /** The stages whose state machine is known without asking. */
  knownStages(): readonly Stage[];
}

type Options = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
type Env = Readonly<Record<string, string | undefined>>;

/** What `npm start` writes to `<GANTRY_HOME>/endpoints.json` while it runs. */
export interface LocalEndpoints {
  readonly sfn: string;
  readonly web?: string;
  readonly pid: number;
}

/** The data directory of the local control plane: GANTRY_HOME, else `.gantry` at the project root. */
export function gantryHome(cwd: string, env: Env): string {
  return env.GANTRY_HOME ? resolve(cwd, env.GANTRY_HOME) : join(projectRoot(cwd), ".gantry");
}

/** The endpoints file of a local control plane, and whether its process is alive. */
export function readLocalEndpoints(
  home: string,
): { endpoints: LocalEndpoints; alive: boolean } | undefined {
  const file = join(home, "endpoints.json");
  if (!existsSync(file)) return undefined;
  try {
    const endpoints = JSON.parse(readFileSync(file, "utf8")) as LocalEndpoints;
    if (typeof endpoints.sfn !== "string" || !Number.isInteger(endpoints.pid)) return undefined;
    return { endpoints, alive: isAlive(endpoints.pid) };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** The environment variable that names a stage's state machine in AWS. */
export function stateMachineEnvName(stage: Stage): string {
  return `GANTRY_${stage.toUpperCase()}_STATE_MACHINE_ARN`;
}

/** The local control plane's state machine for a stage. */
export function localStateMachineArn(stage: Stage): string {
  return `${LOCAL_ARN_PREFIX}:stateMachine:gantry-${stage}`;
}

/**
 * An execution's ARN from its state machine's ARN and its name.
 *
 * @example
 * ```ts
 * executionArnFor("arn:aws:states:us-east-1:000000000000:stateMachine:gantry-prod", "hello-1");
 * // "arn:aws:states:us-east-1:000000000000:execution:gantry-prod:hello-1"
 * ```
 */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
}

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):execution:([^:]+):([^:]+)$/;

/** The parts of an execution ARN, or undefined when `value` is not one. */
export function parseExecutionArn(
  value: string,
): { region: string; account: string; stateMachine: string; name: string } | undefined {
  const match = EXECUTION_ARN.exec(value);
  if (!match) return undefined;
  const [, region = "", account = "", stateMachine = "", name = ""] = match;
  return { region, account, stateMachine, name };
}

function regionOfArn(arn: string | undefined): string | undefined {
  return arn?.split(":")[3] || undefined;
}

/**
 * Chooses the target, first match wins:
 * 1. `--endpoint URL` / GANTRY_ENDPOINT: a local control plane there;
 * 2. AWS when asked for: `--aws`, `--state-machine-arn`, `--operator-url`, or their environment
 *    variables (GANTRY_STATE_MACHINE_ARN, GANTRY_<STAGE>_STATE_MACHINE_ARN, GANTRY_OPERATOR_URL),
 *    or an execution ARN outside the local account;
 * 3. the local control plane `npm start` runs, from `<GANTRY_HOME>/endpoints.json`, if its
 *    process is alive.
 * Otherwise a usage error says how to choose.
 */
export function resolveTarget(input: {
  readonly command: string;
  readonly options: Options;
  readonly env: Env;
  readonly cwd: string;
  /** An execution ARN the command was given, if any (it may say AWS by itself). */
  readonly executionRef?: string | undefined;
}): Target {
  const { options, env } = input;
  const endpoint = stringOption(options, "endpoint") ?? env.GANTRY_ENDPOINT;
  const webOption = stringOption(options, "web-endpoint") ?? env.GANTRY_WEB_ENDPOINT;
  const home = gantryHome(input.cwd, env);
  const local = readLocalEndpoints(home);

  if (endpoint) {
    const url = checkedUrl(input.command, "--endpoint", endpoint);
    const web =
      webOption ??
      (local?.alive && sameOrigin(local.endpoints.sfn, url) ? local.endpoints.web : undefined);
    return localTarget(url, web, "--endpoint", home);
  }

  const smOption = stringOption(options, "state-machine-arn");
  const smEnv = env.GANTRY_STATE_MACHINE_ARN;
  const perStage = Object.fromEntries(
    STAGES.map((stage) => [stage, env[stateMachineEnvName(stage)]]),
  ) as Record<Stage, string | undefined>;
  const operatorUrl = stringOption(options, "operator-url") ?? env.GANTRY_OPERATOR_URL;
  const refArn = input.executionRef ? parseExecutionArn(input.executionRef) : undefined;
  const wantsAws =
    options.aws === true ||
    smOption !== undefined ||
    Boolean(smEnv) ||
    STAGES.some((stage) => Boolean(perStage[stage])) ||
    Boolean(operatorUrl) ||
    (refArn !== undefined && refArn.account !== "000000000000");

  if (wantsAws) {
    const region =
      stringOption(options, "region") ??
      regionOfArn(smOption) ??
      (refArn ? refArn.region : undefined) ??
      env.AWS_REGION ??
      env.AWS_DEFAULT_REGION ??
      regionOfArn(smEnv ?? perStage.prod ?? perStage.preprod);
    const config = region ? { region } : {};
    const arnFor = (stage: Stage): string | undefined => smOption ?? perStage[stage] ?? smEnv;
    return {
      kind: "aws",
      sfn: guardClientOutput(new SFNClient(config)),
      s3: guardClientOutput(new S3Client({ ...config, followRegionRedirects: true })),
      ...(operatorUrl
        ? { operatorUrl: checkedUrl(input.command, "--operator-url", operatorUrl) }
        : {}),
      chosenBy: "AWS",
      stateMachineArn(stage) {
        const arn = arnFor(stage);
        if (!arn) {
          throw new UsageError(
            input.command,
            `which state machine runs ${stage} deployments? Pass --state-machine-arn, or set ${stateMachineEnvName(stage)}`,
            [`\`sst deploy --stage ${stage}\` prints it (output: stateMachineArn)`],
          );
        }
        return arn;
      },
      // One state machine given for every stage (--state-machine-arn, GANTRY_STATE_MACHINE_ARN)
      // counts once, as the stage its name says (gantry-prod), else the first.
      knownStages: () => {
        const byArn = new Map<string, Stage>();
        for (const stage of STAGES) {
          const arn = arnFor(stage);
          if (!arn) continue;
          const named = stageOfStateMachine(arn);
          if (!byArn.has(arn) || named === stage) byArn.set(arn, stage);
        }
        return STAGES.filter((stage) => [...byArn.values()].includes(stage));
      },
    };
  }

  if (local?.alive) {
    const web = webOption ?? local.endpoints.web;
    return localTarget(local.endpoints.sfn, web, join(home, "endpoints.json"), home);
  }

  const stale = local
    ? `the local control plane recorded in ${join(home, "endpoints.json")} (pid ${local.endpoints.pid}) is not running`
    : "no local control plane is running";
  throw new CliError(ExitCode.Failed, `no control plane to talk to: ${stale}`, [
    "start the local control plane with `npm start`, or pass --endpoint URL (GANTRY_ENDPOINT)",
    "for AWS: pass --state-machine-arn ARN (or set GANTRY_<STAGE>_STATE_MACHINE_ARN), or --aws",
  ]);
}

function localTarget(
  endpoint: string,
  web: string | undefined,
  chosenBy: string,
  home: string,
): Target {
  const config = { endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS, maxAttempts: 2 };
  return {
    kind: "local",
    sfn: guardClientOutput(new SFNClient(config)),
    s3: guardClientOutput(new S3Client({ ...config, forcePathStyle: true })),
    endpoint,
    ...(web ? { webEndpoint: web } : {}),
    home,
    chosenBy,
    stateMachineArn: localStateMachineArn,
    knownStages: () => STAGES,
  };
}

function checkedUrl(command: string, flagName: string, value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
    return value.replace(/\/+$/, "");
  } catch {
    throw new UsageError(command, `${flagName} must be an http(s) URL, got ${value}`);
  }
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
