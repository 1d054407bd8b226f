import {
  type ExecutionListItem,
  type ExecutionStatus,
  ListExecutionsCommand,
} from "@aws-sdk/client-sfn";
import type { Stage } from "@gantry/core";
import { integerOption, stageOption, stringOption } from "../args.ts";
import { explainError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { formatDuration, isoTime, table } from "../render/format.ts";
import { printJson } from "../render/json.ts";
import { type CommandContext, say, targetOf, wantsJson } from "./context.ts";

const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] as const;

/** One row of `gantry list`. */
export interface ListedExecution {
  readonly name: string;
  readonly stage: Stage;
  readonly status: string;
  readonly executionArn: string;
  readonly startedAt: string | null;
  readonly stoppedAt: string | null;
}

/**
 * True when an execution name is one `gantry deploy` gave a deployment of `service`:
 * `<service>-<version[0:12]>-<sha256[0:8]>[-r<attempt>]`.
 *
 * @example
 * ```ts
 * isExecutionOf("hello-service-3f2a9c1e0b12-ab12cd34", "hello-service"); // true
 * isExecutionOf("hello-service-3f2a9c1e0b12-ab12cd34", "hello"); // false
 * ```
 */
export function isExecutionOf(name: string, service: string): boolean {
  if (!name.startsWith(`${service}-`)) return false;
  return /^[0-9a-f]{7,12}-[0-9a-f]{8}(-r\d{1,3})?$/.test(name.slice(service.length + 1));
}

/** `gantry list`: recent executions of each stage, newest first. */
export async function listCommand(context: CommandContext): Promise<ExitCode> {
  const { options } = context;
  const stage = stageOption(context.command, options, false);
  const limit = integerOption(context.command, options, "limit", 1, 1000) ?? 20;
  const service = stringOption(options, "service");
  const statusOption = stringOption(options, "status")?.toUpperCase();
  if (statusOption && !(STATUSES as readonly string[]).includes(statusOption)) {
    throw new UsageError(context.command, `--status must be one of ${STATUSES.join(", ")}`);
  }
  const target = targetOf(context);
  const stages = stage ? [stage] : target.knownStages();
  if (stages.length === 0) target.stateMachineArn("prod"); // says how to name a state machine

  const rows: ListedExecution[] = [];
  for (const s of stages) {
    const stateMachineArn = target.stateMachineArn(s);
    const found: ExecutionListItem[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await target.sfn.send(
          new ListExecutionsCommand({
            stateMachineArn,
            ...(statusOption ? { statusFilter: statusOption as ExecutionStatus } : {}),
            maxResults: service ? 100 : Math.min(limit, 100),
            nextToken,
          }),
        );
        for (const item of page.executions ?? []) {
          if (!service || isExecutionOf(item.name ?? "", service)) found.push(item);
        }
        nextToken = page.nextToken;
      } while (nextToken && found.length < limit);
    } catch (error) {
      throw explainError(error, {
        endpoint: target.endpoint,
        aws: target.kind === "aws",
        subject: stateMachineArn,
      });
    }
    for (const item of found.slice(0, limit)) {
      rows.push({
        name: item.name ?? "",
        stage: s,
        status: item.status ?? "",
        executionArn: item.executionArn ?? "",
        startedAt: item.startDate ? item.startDate.toISOString() : null,
        stoppedAt: item.stopDate ? item.stopDate.toISOString() : null,
      });
    }
  }
  rows.sort((a, b) => (b.startedAt ?? "").localeCompare(a.startedAt ?? ""));

  if (wantsJson(context)) {
    printJson(context.io.stdout, { executions: rows });
    return ExitCode.Ok;
  }
  if (rows.length === 0) {
    say(context, `no executions${service ? ` of ${service}` : ""} in ${stages.join(" or ")}`);
    return ExitCode.Ok;
  }
  const now = context.io.now();
  say(
    context,
    table([
      ["NAME", "STAGE", "STATUS", "STARTED", "DURATION"],
      ...rows.map((r) => {
        const start = r.startedAt ? Date.parse(r.startedAt) : Number.NaN;
        const stop = r.stoppedAt ? Date.parse(r.stoppedAt) : now;
        return [r.name, r.stage, r.status, isoTime(start), formatDuration(stop - start)];
      }),
    ]),
  );
  return ExitCode.Ok;
}
