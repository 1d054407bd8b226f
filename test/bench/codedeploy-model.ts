/**
 * A CodeDeploy-like canary (Canary10Percent5Minutes, rolled back by a CloudWatch alarm on 60 s
 * periods), simulated on the traffic the bench measured, for the blast-radius comparison. It is a
 * model, not CodeDeploy: its assumptions are listed in docs/benchmarks.md and on the fields below.
 */

export interface CanaryModel {
  /** Requests per real second to the alias (what the local world's traffic generator sent). */
  readonly requestsPerSecond: number;
  /** Real milliseconds from the deployment's start to its first traffic shift (same pipeline). */
  readonly preTrafficMs: number;
  /** The new version's share of traffic during the canary, 0–1 (0.1). */
  readonly canaryShare: number;
  /** How long the canary lasts before all traffic moves, real ms (5 minutes, scaled). */
  readonly canaryMs: number;
  /** The alarm's period, real ms (60 s, scaled); periods start on the clock, not the deployment. */
  readonly alarmPeriodMs: number;
  /** CodeDeploy's own delay in reading the alarm: uniform in [0, this), real ms. */
  readonly pollMs: number;
  /** The alarm: error rate ≥ this percent over one period ... */
  readonly thresholdPercent: number;
  /** ... counted once the period has this many requests (as the local world's alarms). */
  readonly minRequests: number;
  readonly trials: number;
  readonly seed: number;
}

export interface ModelTrial {
  /** Requests the new version failed before the rollback. */
  readonly failed: number;
  /** All requests from the deployment's start to the rollback. */
  readonly total: number;
  /** Deployment start to rollback, real ms. */
  readonly windowMs: number;
}

/**
 * Runs the model `trials` times, each with its own phase of the requests and of the alarm's
 * periods and its own poll delay; every request routed to the new version fails. The rollback is
 * instant once CodeDeploy sees the alarm (no rollback deployment time: in CodeDeploy's favour),
 * and the alarm's state is published the moment its period ends (no metric delay: the same).
 *
 * @example
 * ```ts
 * const trials = simulateCanary({ requestsPerSecond: 50, preTrafficMs: 300, canaryShare: 0.1,
 *   canaryMs: 3000, alarmPeriodMs: 600, pollMs: 600, thresholdPercent: 5, minRequests: 5,
 *   trials: 1000, seed: 1 });
 * ```
 */
export function simulateCanary(model: CanaryModel): ModelTrial[] {
  if (!(model.requestsPerSecond > 0)) throw new RangeError("requestsPerSecond must be positive");
  const random = mulberry32(model.seed);
  const gap = 1000 / model.requestsPerSecond;
  const trials: ModelTrial[] = [];
  for (let t = 0; t < model.trials; t++) {
    const phase = random() * gap;
    const periodPhase = random() * model.alarmPeriodMs;
    const poll = random() * model.pollMs;
    const shiftAt = model.preTrafficMs;
    // The alarm reads whole periods: [periodPhase + k·period, periodPhase + (k+1)·period).
    let periodEnd = periodPhase;
    while (periodEnd <= shiftAt) periodEnd += model.alarmPeriodMs;
    let inPeriod = 0;
    let badInPeriod = 0;
    let failed = 0;
    let total = 0;
    let rollbackAt = Number.POSITIVE_INFINITY;
    // A version that never trips the alarm would run forever: stop counting well after it.
    const giveUpAt = shiftAt + model.canaryMs + 100 * model.alarmPeriodMs;
    for (let at = phase; ; at += gap) {
      // Close every period that ended before this request; the first breaching one triggers.
      while (at >= periodEnd) {
        const breached =
          inPeriod >= model.minRequests && (badInPeriod / inPeriod) * 100 >= model.thresholdPercent;
        if (breached && rollbackAt === Number.POSITIVE_INFINITY) rollbackAt = periodEnd + poll;
        inPeriod = 0;
        badInPeriod = 0;
        periodEnd += model.alarmPeriodMs;
      }
      if (at >= rollbackAt) break;
      if (at >= giveUpAt) {
        rollbackAt = at;
        break;
      }
      total++;
      if (at >= periodEnd - model.alarmPeriodMs) inPeriod++;
      const share = at < shiftAt ? 0 : at < shiftAt + model.canaryMs ? model.canaryShare : 1;
      if (share > 0 && random() < share) {
        failed++;
        badInPeriod++;
      }
    }
    trials.push({ failed, total, windowMs: rollbackAt });
  }
  return trials;
}

/** A small seeded PRNG: the model gives the same figures on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
