import { type SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { type DeploymentRequest, executionName, type Stage } from "@gantry/core";
import { flag, integerOption, listOption, stageOption, stringOption } from "../args.ts";
import { defaultActor, defaultCiRunUrl } from "../ci-env.ts";
import { CliError, explainError } from "../errors.ts";
import { describeExecution, type ExecutionDescription, readSummary } from "../executions.ts";
import { ExitCode } from "../exit-codes.ts";
import { obtainIdToken, withoutIdToken } from "../id-token.ts";
import { shortSha } from "../render/format.ts";
import { printJson } from "../render/json.ts";
import { describeSummary } from "../render/text.ts";
import { validateRequest } from "../request.ts";
import { executionArnFor } from "../target.ts";
import { type CommandContext, registryOf, say, targetOf, wantsJson } from "./context.ts";
import { watchExecution } from "./watch.ts";

/** What StartExecution led to: a new execution, or the one a previous run of this job started. */
export interface Started {
  readonly executionArn: string;
  readonly name: string;
  /** Set when the execution already existed with the same input (a retried CI job). */
  readonly existing?: ExecutionDescription;
}

/**
 * `gantry deploy`: validates the request (schema and registry) before calling anything, starts
 * the execution under its deterministic name, and with `--wait` follows it to the end. The exit
 * code says how it ended (see exit-codes.ts). `--fix-for ALARM` (repeatable) marks a fix
 * deployed during an incident: the request's `fixFor`.
 *
 * @example
 * ```ts
 * const code = await deployCommand(context); // gantry deploy --stage prod ... --fix-for api-errors
 * if (code === ExitCode.RolledBack) console.error("the fix did not beat the live version");
 * ```
 */
export async function deployCommand(context: CommandContext): Promise<ExitCode> {
  const { options, io } = context;
  const stage = stageOption(context.command, options, true) as Stage;
  const attempt = integerOption(context.command, options, "attempt", 1, 999) ?? 1;
  const json = wantsJson(context);
  const wait = flag(options, "wait");

  const { registry } = await registryOf(context);
  // The request is checked before the target is chosen: bad input is exit 2 wherever it goes.
  const claimed = buildRequest(context, registry, stage);
  const target = targetOf(context);
  const request = await withIdToken(context, claimed, { target, registry, stage, attempt });
  const stateMachineArn = target.stateMachineArn(stage);
  const name = executionName(request, attempt);
  const errorContext = {
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    aws: target.kind === "aws",
    subject: stateMachineArn,
  };

  let started: Started;
  try {
    started = await startOrFind(target.sfn, stateMachineArn, name, request, stage, attempt);
  } catch (error) {
    throw explainError(error, errorContext);
  }

  const what = `${request.service} ${shortSha(request.version)}`;
  const intro = started.existing
    ? [
        `${what} already has execution ${name} in ${stage} with the same input (a retried job?): ` +
          `reporting it instead of deploying again`,
        `execution ${started.executionArn}`,
      ]
    : [
        `deploying ${what} to ${stage} as ${name}${attempt > 1 ? ` (attempt ${attempt})` : ""}` +
          (request.fixFor ? `: a fix for ${request.fixFor.join(", ")} (in ALARM)` : ""),
        `execution ${started.executionArn}`,
      ];

  if (!wait) {
    const { summary } = await readSummary(target.sfn, started.executionArn, started.existing).catch(
      (error: unknown) => {
        throw explainError(error, errorContext);
      },
    );
    if (json) printJson(io.stdout, summary);
    else if (summary.result === "running") {
      say(context, ...intro, `follow it: gantry status ${name} --stage ${stage} --wait`);
    } else say(context, ...intro, ...describeSummary(summary));
    return summary.exitCode;
  }

  return watchExecution(context, target, {
    executionArn: started.executionArn,
    name,
    stage,
    intro,
  });
}

/** The request from the flags and the CI environment, checked. */
function buildRequest(
  context: CommandContext,
  registry: Parameters<typeof validateRequest>[1],
  stage: Stage,
): DeploymentRequest {
  const { options, io } = context;
  const explicitUrl = stringOption(options, "ci-run-url");
  const values = {
    service: stringOption(options, "service"),
    version: stringOption(options, "version"),
    artifactKey: stringOption(options, "artifact-key"),
    sha256: stringOption(options, "sha256"),
    actor: stringOption(options, "actor") ?? defaultActor(io.env),
    ciRunUrl: explicitUrl ?? defaultCiRunUrl(io.env),
    fixFor: listOption(options, "fix-for"),
  };
  try {
    return validateRequest(values, registry, stage);
  } catch (error) {
    // A CI run URL guessed from the environment that the schema refuses (say, an http:// Jenkins)
    // is left out rather than failing the deploy; one given with --ci-run-url is the user's.
    const issues = (error as CliError).details?.issues as { field: string }[] | undefined;
    if (!explicitUrl && values.ciRunUrl && issues?.some((i) => i.field === "--ci-run-url")) {
      io.stderr.write(
        `gantry: note: leaving out the CI run URL ${values.ciRunUrl} (not an https URL); pass --ci-run-url to set one\n`,
      );
      return validateRequest({ ...values, ciRunUrl: undefined }, registry, stage);
    }
    throw error;
  }
}

/**
 * The request with the trigger's ID token (obtainIdToken), unless `--no-id-token`. The token's
 * actor is the request's: a default actor (GANTRY_ACTOR, ...) gives way to it; an `--actor`
 * naming someone else is refused here, before ValidateInput would refuse it.
 */
async function withIdToken(
  context: CommandContext,
  request: DeploymentRequest,
  where: Omit<Parameters<typeof obtainIdToken>[0], "env" | "request">,
): Promise<DeploymentRequest> {
  if (flag(context.options, "no-id-token")) return request;
  const token = await obtainIdToken({ ...where, env: context.io.env, request });
  if (token.source === "none") {
    context.io.stderr.write(`gantry: note: no ID token: ${token.reason}\n`);
    return request;
  }
  let actor = request.trigger.actor;
  if (token.actor !== undefined && token.actor !== actor) {
    const explicit = stringOption(context.options, "actor");
    if (explicit !== undefined) {
      throw new CliError(
        ExitCode.Usage,
        `--actor ${explicit} is not the ID token's actor (${token.actor}): a verified trigger names who the token says`,
        [
          "leave --actor out",
          "or pass --no-id-token to deploy unverified (if the stage allows it)",
        ],
      );
    }
    actor = token.actor;
  }
  return { ...request, trigger: { ...request.trigger, actor, idToken: token.idToken } };
}

/** Same input, leaving the ID token aside: a retried job mints a new one. */
function sameInput(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  try {
    return canonical(withoutIdToken(JSON.parse(a))) === canonical(withoutIdToken(JSON.parse(b)));
  } catch {
    return false;
  }
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The dotted paths whose values differ between two JSON documents. */
export function differingFields(a: unknown, b: unknown, prefix = ""): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(a) || !isObject(b))
    return canonical(a) === canonical(b) ? [] : [prefix || "(input)"];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((key) => differingFields(a[key], b[key], prefix ? `${prefix}.${key}` : key));
}

/** Clock skew tolerated when telling a running execution returned by StartExecution from a new one. */
const RETRY_SKEW_MS = 3000;

/**
 * StartExecution under the deterministic name. If the name is taken, describes that execution:
 * the same input means this is a retried job (report or follow that execution, never deploy
 * twice); a different input is a usage error that says how to deploy again (`--attempt N`).
 */
export async function startOrFind(
  sfn: SFNClient,
  stateMachineArn: string,
  name: string,
  request: DeploymentRequest,
  stage: Stage,
  attempt: number,
): Promise<Started> {
  const input = JSON.stringify(request);
  const calledAt = Date.now();
  try {
    const out = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input }));
    const executionArn = out.executionArn ?? executionArnFor(stateMachineArn, name);
    // Step Functions answers a StartExecution with the same name and input as a running
    // execution with that execution: a start date well before the call gives it away.
    const startedBefore = (out.startDate?.getTime() ?? calledAt) < calledAt - RETRY_SKEW_MS;
    const existing = startedBefore ? await describeExecution(sfn, executionArn) : undefined;
    return { executionArn, name, ...(existing ? { existing } : {}) };
  } catch (error) {
    if ((error as { name?: string }).name !== "ExecutionAlreadyExists") throw error;
  }
  const executionArn = executionArnFor(stateMachineArn, name);
  const existing = await describeExecution(sfn, executionArn);
  if (!existing) {
    throw new CliError(
      ExitCode.Failed,
      `StartExecution said ${name} exists, but it cannot be described`,
    );
  }
  if (sameInput(existing.input, input)) return { executionArn, name, existing };

  let previous: unknown;
  try {
    previous = JSON.parse(existing.input ?? "null");
  } catch {
    previous = existing.input;
  }
  const fields = differingFields(withoutIdToken(previous), withoutIdToken(JSON.parse(input)));
  const next = await nextFreeAttempt(sfn, stateMachineArn, request, attempt);
  throw new CliError(
    ExitCode.Usage,
    `${request.service} ${shortSha(request.version)} with this artifact already has an execution in ${stage}: ` +
      `${name} (${existing.status ?? "unknown status"}), started with a different input` +
      (fields.length > 0 ? ` (${fields.join(", ")} differ)` : ""),
    [
      `to deploy this version and artifact again on purpose, pass --attempt ${next}`,
      `to see the existing one: gantry status ${name} --stage ${stage}`,
    ],
    { executionArn, existingStatus: existing.status, differingFields: fields },
  );
}

async function nextFreeAttempt(
  sfn: SFNClient,
  stateMachineArn: string,
  request: DeploymentRequest,
  from: number,
): Promise<number> {
  for (let n = from + 1; n < from + 20 && n <= 999; n++) {
    const arn = executionArnFor(stateMachineArn, executionName(request, n));
    const found = await describeExecution(sfn, arn).catch(() => undefined);
    if (!found) return n;
  }
  return from + 1;
}
