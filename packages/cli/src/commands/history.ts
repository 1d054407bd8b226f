import {
  deepMapStrings,
  errorDetailsOf,
  eventTime,
  type HistoryEventLike,
  hideIdTokensInJson,
  readableCause,
} from "@gantry/core";
import { stageOption } from "../args.ts";
import { explainError } from "../errors.ts";
import { resolveExecution } from "../executions.ts";
import { ExitCode } from "../exit-codes.ts";
import { eventsAfter } from "../follow.ts";
import { isoTime } from "../render/format.ts";
import { printJson } from "../render/json.ts";
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

function eventDetail(event: HistoryEventLike): string {
  const name = event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name;
  if (name) return name;
  const failure = errorDetailsOf(event);
  if (failure?.error) {
    return `${failure.error}${failure.cause ? `: ${readableCause(failure.cause)}` : ""}`;
  }
  return "";
}
