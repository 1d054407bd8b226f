import type { HistoryEventLike } from "../history/events.ts";
import type { VersionSample, VersionVerdict } from "../state.ts";
import { T0 } from "./fixtures.ts";

/**
 * Version verdicts as CheckAlarms writes them (`$.rollout.analysis`), for the tests of what
 * reads and shows them (the history reader, the deployment record, `gantry status`, the console).
 * The numbers are plausible, not computed: these tests check how a verdict is carried and shown,
 * the analysis's own tests check how it is reached.
 */

/** One version's side of a verdict: only real traffic unless overridden. */
export function testSample(overrides: Partial<VersionSample> = {}): VersionSample {
  return {
    version: "2",
    requests: 130,
    failures: 0,
    realRequests: 130,
    throttles: 0,
    synthetic: 0,
    syntheticFailures: 0,
    p99Ms: 42,
    ...overrides,
  };
}

/**
 * A verdict that passed the 10% step: version 2 failed 0 of 130, version 1 1 of 1,170.
 *
 * @example
 * ```ts
 * const verdict = testVerdict({ weight: 25, stepIndex: 1 });
 * const rollout = testRollout({ analysis: verdict });
 * ```
 */
export function testVerdict(overrides: Partial<VersionVerdict> = {}): VersionVerdict {
  const from = new Date(T0).toISOString();
  const to = new Date(T0 + 60_000).toISOString();
  return {
    at: to,
    phase: "steps",
    stepIndex: 0,
    weight: 10,
    window: { from, to },
    newVersion: testSample(),
    previousVersion: testSample({
      version: "1",
      requests: 1170,
      failures: 1,
      realRequests: 1170,
      p99Ms: 40,
    }),
    errorRate: {
      test: "fisher-exact-one-sided",
      newRate: 0,
      previousRate: (1 / 1170) * 100,
      increasePoints: -(1 / 1170) * 100,
      pValue: 0.91,
      alpha: 0.05,
      maxIncreasePoints: 1,
      regressed: false,
    },
    latency: {
      judged: true,
      newP99Ms: 42,
      previousP99Ms: 40,
      ratio: 1.05,
      maxRatio: 1.2,
      minIncreaseMs: 5,
      regressed: false,
    },
    decision: "pass",
    summary:
      "version 2 failed 0 of 130 requests (0.0%), version 1 1 of 1170 (0.1%): -0.1 points <= +1; p99 42 ms vs 40 ms (1.05x <= 1.2x)",
    ...overrides,
  };
}

/**
 * A verdict that failed the 10% step: version 2 failed 31 of 120 requests (a diluted failure).
 *
 * @example
 * ```ts
 * const rollout = testRollout({ phase: "halted", analysis: regressedVerdict() });
 * ```
 */
export function regressedVerdict(overrides: Partial<VersionVerdict> = {}): VersionVerdict {
  return testVerdict({
    newVersion: testSample({ requests: 120, failures: 31, realRequests: 120 }),
    previousVersion: testSample({
      version: "1",
      requests: 1080,
      failures: 2,
      realRequests: 1080,
      p99Ms: 40,
    }),
    errorRate: {
      test: "fisher-exact-one-sided",
      newRate: (31 / 120) * 100,
      previousRate: (2 / 1080) * 100,
      increasePoints: (31 / 120) * 100 - (2 / 1080) * 100,
      pValue: 3.1e-25,
      alpha: 0.05,
      maxIncreasePoints: 1,
      regressed: true,
    },
    decision: "fail",
    failure: "VersionRegressed",
    summary:
      "version 2 failed 31 of 120 requests (25.8%), version 1 2 of 1080 (0.2%): +25.6 points > +1 at 95% (Fisher p = 3.1e-25); p99 42 ms vs 40 ms (1.05x <= 1.2x)",
    ...overrides,
  });
}

/**
 * A short execution history in which the version analysis stops a deployment: the 10% step's
 * check passes ({@link testVerdict}), the 25% step's halts it ({@link regressedVerdict}, at 25%),
 * NoteAnalysisFailure names VersionRegressed, Rollback restores version 1, and the execution
 * ends in the VersionRegressed Fail state. Only the events the readers use (no Lambda events),
 * a second apart from `T0`.
 *
 * @example
 * ```ts
 * const progress = readDeployment(regressedHistory());
 * progress.verdicts.map((v) => v.decision); // ["pass", "fail"]
 * ```
 */
export function regressedHistory(): HistoryEventLike[] {
  const request = {
    service: "hello-service",
    version: "3f2a9c1e0b7d4e5f6a7b8c9d0e1f2a3b4c5d6e7f",
    artifact: { key: "hello-service/3f2a9c1e0b7d/a.zip", sha256: "a".repeat(64) },
    trigger: { actor: "octocat" },
  };
  const plan = {
    stage: "prod",
    service: "hello-service",
    alarms: ["hello-prod-errors", "hello-prod-latency"],
    fixFor: [],
    analysis: {
      confidence: 0.95,
      maxErrorRateIncrease: 1,
      maxLatencyRatio: 1.2,
      minLatencyIncreaseMs: 5,
      minRequests: 100,
      whenInsufficient: "synthesize",
      maxSyntheticRequests: 200,
    },
  };
  const rollout = (weight: number, stepIndex: number, extra: Record<string, unknown> = {}) => ({
    newVersion: "2",
    previousVersion: "1",
    phase: "steps",
    stepIndex,
    weight,
    holdEndsAt: new Date(T0 + 60_000).toISOString(),
    ...extra,
  });
  const passed = testVerdict();
  const failed = regressedVerdict({ weight: 25, stepIndex: 1 });
  const halted = rollout(25, 1, { phase: "halted", analysis: failed });
  const failure = { Error: "VersionRegressed", Cause: failed.summary };
  const cause = `${failed.summary}; rolled back to version 1`;
  const steps: [string, Record<string, unknown>][] = [
    ["ExecutionStarted", { executionStartedEventDetails: { input: JSON.stringify(request) } }],
    ["TaskStateEntered", { stateEnteredEventDetails: { name: "ValidateInput", input: "{}" } }],
    ["TaskStateExited", exited("ValidateInput", { request, plan })],
    ["TaskStateEntered", entered("HoldTrafficStep", { plan, rollout: rollout(10, 0) })],
    ["TaskStateExited", exited("HoldTrafficStep", { plan, rollout: rollout(10, 0) })],
    ["TaskStateEntered", entered("CheckAlarms", { plan, rollout: rollout(10, 0) })],
    [
      "TaskStateExited",
      exited("CheckAlarms", { plan, rollout: rollout(25, 1, { analysis: passed }) }),
    ],
    ["ChoiceStateEntered", entered("AllStepsHeld", { plan })],
    ["ChoiceStateExited", exited("AllStepsHeld", { plan })],
    ["TaskStateEntered", entered("HoldTrafficStep", { plan, rollout: rollout(25, 1) })],
    ["TaskStateExited", exited("HoldTrafficStep", { plan, rollout: rollout(25, 1) })],
    [
      "TaskStateEntered",
      entered("CheckAlarms", { plan, rollout: rollout(25, 1, { analysis: passed }) }),
    ],
    ["TaskStateExited", exited("CheckAlarms", { plan, rollout: halted })],
    ["ChoiceStateEntered", entered("AllStepsHeld", { plan, rollout: halted })],
    ["ChoiceStateExited", exited("AllStepsHeld", { plan, rollout: halted })],
    ["PassStateEntered", entered("NoteAnalysisFailure", { plan, rollout: halted })],
    ["PassStateExited", exited("NoteAnalysisFailure", { plan, rollout: halted, failure })],
    ["TaskStateEntered", entered("Rollback", { plan, rollout: halted, failure })],
    [
      "TaskStateExited",
      exited("Rollback", {
        plan,
        rollout: halted,
        failure,
        rollback: {
          restoredVersion: "1",
          removedVersion: "2",
          verifiedAt: new Date(T0).toISOString(),
        },
      }),
    ],
    ["TaskStateEntered", entered("FinishAfterFailure", { plan })],
    [
      "TaskStateExited",
      exited("FinishAfterFailure", {
        outcome: { status: "rolled-back", error: "VersionRegressed", cause, lockReleased: true },
      }),
    ],
    ["ChoiceStateEntered", entered("ReportFailure", {})],
    ["ChoiceStateExited", exited("ReportFailure", {})],
    ["FailStateEntered", entered("VersionRegressed", {})],
    ["ExecutionFailed", { executionFailedEventDetails: { error: "VersionRegressed", cause } }],
  ];
  return steps.map(([type, details], i) => ({
    id: i + 1,
    ...(i > 0 ? { previousEventId: i } : {}),
    type,
    timestamp: new Date(T0 + i * 1000),
    ...details,
  }));
}

function entered(name: string, input: unknown) {
  return { stateEnteredEventDetails: { name, input: JSON.stringify(input) } };
}

function exited(name: string, output: unknown) {
  return { stateExitedEventDetails: { name, output: JSON.stringify(output) } };
}
