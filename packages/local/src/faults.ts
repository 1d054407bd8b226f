/**
 * Fault injection for the fault-injection suite (test/faults, docs/reliability.md). Opt-in only:
 * with no plan (no `faults` option and no GANTRY_FAULTS in the environment) `injectFaults`
 * returns the handlers it was given, untouched, so normal runs pay nothing.
 *
 * A plan names Tasks by their catalogue key (`WorkflowFunctionKey`: ValidateInput, AcquireLock,
 * VerifyPreprod, ApprovalGate, VerifyApproval, CopyArtifact, Deploy, Canary, CheckAlarms (also
 * CheckBakeAlarms), Promote, Rollback, Finish (also FinishAfterFailure)) and what goes wrong:
 *
 * - `throttle`: the first `times` calls (default 2) throw `Lambda.TooManyRequestsException`,
 *   an error every Task's Retry lists; then the real handler runs.
 * - `error`: every call (or the first `times`) throws `InjectedFault`, an error no Retry lists:
 *   a permanent failure, left to the Task's Catch.
 * - `timeout`: the call hangs for `timeoutMs` (default 1,000 ms), never running the handler,
 *   then fails with `States.Timeout`, what the engine raises when a Task outlives its
 *   TimeoutSeconds (the ASL's timeouts are real seconds, 10 s to 15 min: too long for a suite,
 *   so the engine's timeout is emulated at the suite's time scale).
 * - `crash-after`: the real handler runs (its side effect lands), then the process is killed
 *   with SIGKILL before the result reaches the engine: a crash between the side effect and its
 *   record. Only meaningful for a control plane in a child process (`npm start`).
 * - `crash-before`: the process is killed with SIGKILL as the Task starts, before its handler
 *   runs: a crash on entering the state.
 *
 * `stage` limits a fault to one stage; `match` to calls whose JSON event contains that text
 * (e.g. `"phase":"bake"` for CheckBakeAlarms, `"result":"failed"` for FinishAfterFailure);
 * `skip` lets the first matching calls through first.
 * Child processes take the plan as JSON in GANTRY_FAULTS, e.g.
 * `GANTRY_FAULTS='{"Deploy":{"kind":"throttle"}}' npm start`.
 */
import type { Stage, WorkflowFunctionKey } from "@gantry/core";
import type { TaskHandler } from "./engine/workflow-engine.ts";

export type FaultKind = "throttle" | "error" | "timeout" | "crash-after" | "crash-before";

export interface Fault {
  readonly kind: FaultKind;
  readonly stage?: Stage;
  readonly match?: string;
  readonly skip?: number;
  readonly times?: number;
  readonly timeoutMs?: number;
}

export type FaultPlan = Partial<Record<WorkflowFunctionKey, Fault>>;

export const FAULT_KINDS: readonly FaultKind[] = [
  "throttle",
  "error",
  "timeout",
  "crash-after",
  "crash-before",
];

/** The plan in GANTRY_FAULTS, if any. */
export function faultPlanFromEnv(env: NodeJS.ProcessEnv = process.env): FaultPlan | undefined {
  const text = env.GANTRY_FAULTS;
  if (!text) return undefined;
  const plan = JSON.parse(text) as FaultPlan;
  for (const fault of Object.values(plan))
    if (!fault || !FAULT_KINDS.includes(fault.kind))
      throw new Error(`GANTRY_FAULTS: unknown fault ${JSON.stringify(fault)}`);
  return plan;
}

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** The handlers with the plan's faults wrapped around them; the same object without a plan. */
export function injectFaults(
  handlers: Record<WorkflowFunctionKey, TaskHandler>,
  stage: Stage,
  plan: FaultPlan | undefined = faultPlanFromEnv(),
): Record<WorkflowFunctionKey, TaskHandler> {
  if (!plan) return handlers;
  const wrapped = { ...handlers };
  for (const key of Object.keys(plan) as WorkflowFunctionKey[]) {
    const fault = plan[key];
    const real = handlers[key];
    if (!fault || !real || (fault.stage && fault.stage !== stage)) continue;
    let calls = 0;
    const defaultTimes =
      fault.kind === "throttle" ? 2 : fault.kind.startsWith("crash") ? 1 : Infinity;
    const times = fault.times ?? defaultTimes;
    wrapped[key] = async (event) => {
      if (fault.match && !JSON.stringify(event).includes(fault.match)) return real(event);
      const n = calls++ - (fault.skip ?? 0);
      if (n < 0 || n >= times) return real(event);
      switch (fault.kind) {
        case "throttle":
          throw named("Lambda.TooManyRequestsException", `injected throttle of ${key} (${n + 1})`);
        case "error":
          throw named("InjectedFault", `injected permanent error of ${key}`);
        case "timeout":
          await new Promise((resolve) => setTimeout(resolve, fault.timeoutMs ?? 1_000));
          throw named("States.Timeout", `injected timeout of ${key}`);
        case "crash-before":
          process.kill(process.pid, "SIGKILL");
          return new Promise(() => undefined);
        case "crash-after": {
          const result = await real(event);
          process.kill(process.pid, "SIGKILL");
          // SIGKILL is delivered at once; never return the result to the engine.
          await new Promise(() => undefined);
          return result;
        }
      }
    };
  }
  return wrapped;
}
