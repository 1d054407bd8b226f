import { type ExecutionListItem, ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { ApprovalRefused, type LockInspection, type Stage, terminalText } from "@gantry/core";
import { flag, stageOption, stringOption } from "../args.ts";
import { CliError, explainError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { printJson } from "../render/json.ts";
import type { Target } from "../target.ts";
import { deskFor } from "./approve.ts";
import { type CommandContext, note, say, targetOf, wantsJson } from "./context.ts";
import { isExecutionOf } from "./list.ts";

/**
 * `gantry unlock <service> --stage <stage> --reason <text> [--force-damaged]`: breaks a
 * deployment lock through the operator API (`breakLock` in @gantry/core), as the identity the
 * transport proves (the local operator secret, or the caller's IAM principal). It inspects the
 * lock first and breaks exactly what it saw (the lock's ETag); the service refuses while the
 * lock's owner runs, and a damaged lock (not readable, owner unknown) only with
 * `--force-damaged`, which this command grants only when no execution of the service is
 * RUNNING in that stage. Every break is audited in the state bucket (`audit/locks/...`).
 *
 * Exit 0 when the lock was broken, or there was none; 2 for usage, or an identity that is not
 * a registered operator; 5 when the service refused (owner running, damaged without
 * `--force-damaged`, lock changed meanwhile) or could not be reached.
 */
export async function unlockCommand(context: CommandContext): Promise<ExitCode> {
  const service = context.positional ?? "";
  const stage = stageOption(context.command, context.options, true) as Stage;
  const reason = stringOption(context.options, "reason");
  if (!reason) {
    throw new UsageError(context.command, "--reason is required: say why the lock is broken", [
      "it is kept in the audit record with who broke the lock and when",
    ]);
  }
  const forceDamaged = flag(context.options, "force-damaged");
  const json = wantsJson(context);
  const target = targetOf(context);
  const desk = await deskFor(target, context.command);
  const errorContext = {
    ...(target.webEndpoint ? { endpoint: target.webEndpoint } : {}),
    aws: target.kind === "aws",
  };

  let lock: LockInspection;
  try {
    lock = await desk.inspectLock(stage, service);
  } catch (error) {
    if (error instanceof ApprovalRefused && error.status === 404 && error.title === "No lock") {
      if (json) printJson(context.io.stdout, { broken: false, lock: null });
      else say(context, `${service} (${stage}) holds no lock: nothing to break.`);
      return ExitCode.Ok;
    }
    throw refusal(error, errorContext, service, stage);
  }
  if (!json) note(context, `Found the lock ${lock.key}: ${describe(lock)}.`);

  if (lock.damaged && forceDamaged) {
    // The owner of a damaged lock cannot be read: make sure nothing of this service is running.
    const running = await runningExecutionsOf(target, stage, service, errorContext);
    if (running.length > 0) {
      throw new CliError(
        ExitCode.Failed,
        `refusing to break the damaged lock of ${service} (${stage}): ${running.length} execution(s) of it are RUNNING: ${running.join(", ")}`,
        [
          "one of them may hold the lock: let it finish, or stop it (gantry stop <execution>), then run gantry unlock again",
        ],
      );
    }
  }

  try {
    const done = await desk.breakLock(stage, service, {
      reason,
      etag: lock.etag,
      ...(forceDamaged ? { forceDamaged: true } : {}),
    });
    if (json) printJson(context.io.stdout, done);
    else
      say(
        context,
        `Broke the lock ${done.key} of ${service} (${stage}): it was ${describe(done.previous)}.`,
        `The break is audited in the state bucket: ${done.audit} (who, when, why, and the lock's bytes).`,
        `The next deployment of ${service} to ${stage} takes a fresh lock.`,
      );
    return ExitCode.Ok;
  } catch (error) {
    throw refusal(error, errorContext, service, stage);
  }
}

/** What a lock is, for a person: its owner and the owner's state, or what is wrong with it. */
function describe(lock: LockInspection): string {
  const what = lock.damaged
    ? `damaged (it ${lock.damaged})`
    : `held by ${lock.owner} (version ${lock.lock?.version}, since ${lock.lock?.acquiredAt})`;
  const owner = lock.damaged && lock.owner ? `; its bytes name ${lock.owner}` : "";
  const status = lock.ownerStatus ? `; owner ${lock.ownerStatus}` : "";
  return terminalText(
    `${what}${owner}${status}; ${lock.size} bytes, sha256 ${lock.sha256.slice(0, 12)}…, ETag ${lock.etag}`,
  );
}

/** The service's RUNNING executions in the stage (`gantry list --service S --status RUNNING`). */
async function runningExecutionsOf(
  target: Target,
  stage: Stage,
  service: string,
  errorContext: { endpoint?: string; aws: boolean },
): Promise<string[]> {
  const stateMachineArn = target.stateMachineArn(stage);
  const found: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await target.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn,
          statusFilter: "RUNNING",
          maxResults: 100,
          nextToken,
        }),
      );
      for (const item of page.executions ?? [])
        if (isExecutionOf(item.name ?? "", service)) found.push(item);
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    throw explainError(error, { ...errorContext, subject: stateMachineArn });
  }
  return found.map((e) => e.name ?? e.executionArn ?? "?");
}

/** The service's refusal as the CLI's error, with its exit code and what to do. */
function refusal(
  error: unknown,
  errorContext: { endpoint?: string; aws: boolean },
  service: string,
  stage: string,
): CliError {
  if (!(error instanceof ApprovalRefused)) return explainError(error, errorContext);
  const usage = error.status === 400 || error.status === 403 || error.status === 404;
  const hints =
    error.title === "Lock damaged"
      ? [
          `check that \`gantry list --service ${service} --stage ${stage} --status RUNNING\` shows nothing, then add --force-damaged`,
        ]
      : error.title === "Owner running"
        ? ["a deployment that ends (or is stopped with `gantry stop`) releases its own lock"]
        : error.status === 403
          ? [
              "only identities the registry's `operators` section maps (gantry.registry.ts) may break a lock",
            ]
          : error.title === "Lock changed"
            ? ["run gantry unlock again to see the lock as it is now"]
            : [];
  return new CliError(
    usage ? ExitCode.Usage : ExitCode.Failed,
    `${error.title}: ${error.message}`,
    hints,
    {
      status: error.status,
    },
  );
}
