import {
  deepMapStrings,
  errorDetailsOf,
  eventTime,
  type HistoryEventLike,
  hideIdTokensInJson,
  readableCause,
  verdictOf,
  WORKFLOW_STATES,
} from "@gantry/core";
import { stageOption } from "../args.ts";
import { explainError } from "../errors.ts";
import { resolveExecution } from "../executions.ts";
import { ExitCode } from "../exit-codes.ts";
import { eventsAfter } from "../follow.ts";
import { isoTime } from "../render/format.ts";
import { printJson } from "../render/json.ts";
import { describeVerdict } from "../render/text.ts";
import { type CommandContext, say, targetOf, wantsJson } from "./context.ts";

/**
 * `gantry history <execution>`: every event of an execution, oldest first, one line each (or
 * the events as Step Functions returns them, with `--json`).
 */
export async function historyCommand(context: CommandContext): Promise<ExitCode> {
  const ref = context.positional ?? "";
  const stage = stageOption(context.command, context.options, false);
  const target = targetOf(context, ref);
  const { arn } = await resolveExecution(target, ref, stage, context.command);
  const events = await eventsAfter(target.sfn, arn, 0).catch((error: unknown) => {
    throw explainError(error, { endpoint: target.endpoint, subject: ref });
  });
  if (wantsJson(context)) {
    printJson(context.io.stdout, { executionArn: arn, events: withoutIdTokens(events) });
    return ExitCode.Ok;
  }
  say(context, ...events.map(historyLine));
  return ExitCode.Ok;
}

/**
 * The events with the caller's ID token hidden: the StartExecution input (and ValidateInput's
 * input) carry it, and a printed history ends up in CI logs.
 *
 * @example
 * ```ts
 * withoutIdTokens(events); // trigger.idToken reads "(ID token, not shown)"
 * ```
 */
export function withoutIdTokens<T>(events: T): T {
  return deepMapStrings(events, hideIdTokensInJson);
}

/** One event as a line: id, time, type, and the state name or error that matters. */
export function historyLine(event: HistoryEventLike): string {
  const id = String(event.id ?? "?").padStart(4);
  const type = (event.type ?? "?").padEnd(28);
  return `${id}  ${isoTime(eventTime(event))}  ${type}  ${eventDetail(event)}`.trimEnd();
}

/** The end-of-hold checks, whose output carries the hold's version verdict. */
const CHECKS: ReadonlySet<string> = new Set<string>([
  WORKFLOW_STATES.checkAlarms,
  WORKFLOW_STATES.checkBakeAlarms,
]);

/** The version verdict in a check's output (`$.rollout.analysis`), as a line; "" without one. */
function verdictIn(output: string | undefined): string {
  try {
    const verdict = verdictOf(JSON.parse(output ?? "null")?.rollout?.analysis);
    return verdict ? `: ${describeVerdict(verdict)}` : "";
  } catch {
    return "";
  }
}

function eventDetail(event: HistoryEventLike): string {
  const exited = event.stateExitedEventDetails;
  if (exited?.name && CHECKS.has(exited.name)) return `${exited.name}${verdictIn(exited.output)}`;
  const name = event.stateEnteredEventDetails?.name ?? exited?.name;
  if (name) return name;
  const failure = errorDetailsOf(event);
  if (failure?.error) {
    return `${failure.error}${failure.cause ? `: ${readableCause(failure.cause)}` : ""}`;
  }
  return "";
}
