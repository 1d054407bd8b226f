import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  CANARY_FAILURES_METRIC,
  type Registry,
  ROLLBACK_FAILED_METRIC,
  runScheduledCanary,
  type SecretSource,
  STAGES,
  type Stage,
  type WorkflowCallbacks,
} from "@gantry/core";
import { Quarantine, sweepTempFiles, TEMP_FILE } from "../storage/durable-file.ts";
import type { WorkflowPorts } from "../workflow-handlers.ts";
import { type AlarmSpec, errorRateAlarm, gantryMetricAlarm, LocalAlarms } from "./alarms.ts";
import { LocalBuckets } from "./buckets.ts";
import { LocalFunctions } from "./functions.ts";
import { LocalHoldScheduler } from "./hold-scheduler.ts";
import { LocalMetrics } from "./metrics.ts";
import { Outbox } from "./outbox.ts";
import { localSigningKeys } from "./signing-key.ts";
import { SmtpMailer } from "./smtp.ts";
import { TrafficGenerator, type TrafficTarget } from "./traffic.ts";
import { LocalVersionMetrics } from "./version-metrics.ts";

/** The bucket that plays each stage's state bucket (locks, approvals, deployment records). */
export const stateBucketOf = (stage: Stage) => `gantry-state-${stage}`;

export interface LocalWorldOptions {
  /** The data directory (`.gantry`). */
  readonly home: string;
  readonly registry: Registry;
  /** 1 = real time; the local default runs faster (see docs/local.md). */
  readonly timeScale: number;
  /** Base URL of the approval pages (the web server). */
  readonly approvalBaseUrl: string;
  readonly sender?: string;
  /** Synthetic requests per second to each alias; 0 for none. */
  readonly trafficPerSecond?: number;
  /** Extra traffic events per service and stage (real users' requests); canary events otherwise. */
  readonly trafficEvents?: (service: string, stage: Stage) => readonly unknown[] | undefined;
  /** How often the scheduled canary runs against prod, in real milliseconds; 0 for never. */
  readonly canaryIntervalMs?: number;
  /** Also send every email to this SMTP server (a local mail catcher). */
  readonly smtpUrl?: string;
  /**
   * Takes the damaged files found (moved under `<home>/quarantine/`, logged, listed by
   * `GET /api/world` and the console); the control plane shares one with its Step Functions.
   * Default: a new one on `home`.
   */
  readonly quarantine?: Quarantine;
}

/**
 * Temporary files the world wrote before they were renamed over a key file, by versions before
 * durable-file.ts: `<name>.tmp`.
 */
const LEGACY_KEY_TEMPS = ["signing-key.json.tmp", "decision-key.json.tmp", "operator-secret.tmp"];

/**
 * AWS, on one machine: artifact and state buckets on disk, Lambda functions that run their
 * artifacts' code, CloudWatch metrics and alarms computed from real invocations, an email
 * outbox, the approval signing key, steady traffic and the scheduled canary. It hands each
 * stage's state machine the same ports the Lambdas get from AWS.
 */
export class LocalWorld {
  readonly buckets: LocalBuckets;
  readonly functions: LocalFunctions;
  readonly metrics: LocalMetrics;
  /** Each version's own numbers through an alias, from `metrics` (the version analysis reads them). */
  readonly versionMetrics: LocalVersionMetrics;
  readonly alarms: LocalAlarms;
  readonly outbox: Outbox;
  readonly registry: Registry;
  readonly timeScale: number;
  /** The approval link signing keys (`signing-key.json`). */
  readonly linkKeys: SecretSource;
  /** The keys that seal decision records (`decision-key.json`): a different key, for the approval path only. */
  readonly decisionKeys: SecretSource;
  /** The damaged files found (and moved aside) since the world opened. */
  readonly quarantine: Quarantine;
  /** Each stage's one-time schedules (EventBridge Scheduler's part): they end holds. */
  readonly schedulers: Readonly<Record<Stage, LocalHoldScheduler>> = {
    preprod: new LocalHoldScheduler(),
    prod: new LocalHoldScheduler(),
  };
  readonly #options: LocalWorldOptions;
  readonly #traffic: TrafficGenerator;
  #canaryTimer: NodeJS.Timeout | undefined;

  private constructor(options: LocalWorldOptions) {
    this.#options = options;
    this.registry = options.registry;
    this.timeScale = options.timeScale;
    const quarantine = options.quarantine ?? new Quarantine(options.home);
    this.quarantine = quarantine;
    this.buckets = new LocalBuckets(join(options.home, "buckets"), {
      quarantine,
      // Their objects' bytes are checked against their SHA-256 at start and when read.
      stateBuckets: STAGES.map((stage) => ({ bucket: stateBucketOf(stage), stage })),
    });
    // One instance each, shared by every function: two first reads must not race to create
    // two different keys.
    this.linkKeys = localSigningKeys(join(options.home, "signing-key.json"), undefined, quarantine);
    this.decisionKeys = localSigningKeys(
      join(options.home, "decision-key.json"),
      "the approval decision key",
      quarantine,
    );
    this.metrics = new LocalMetrics();
    this.versionMetrics = new LocalVersionMetrics(this.metrics);
    this.functions = new LocalFunctions({
      dir: join(options.home, "functions"),
      readObject: async (ref) => (await this.buckets.get(ref))?.bytes,
      onInvocation: (record) => this.metrics.recordInvocation(record),
      quarantine,
    });
    this.alarms = new LocalAlarms(this.metrics, alarmSpecs(options.registry, options.timeScale));
    this.outbox = new Outbox(
      join(options.home, "outbox"),
      options.smtpUrl ? new SmtpMailer(options.smtpUrl) : undefined,
      quarantine,
    );
    this.#traffic = new TrafficGenerator(
      this.functions,
      trafficTargets(options),
      options.trafficPerSecond ?? 0,
    );
  }

  /**
   * Opens the world on its data directory: sweeps the temporary files crashed writes left,
   * checks the functions' function.json files and the keys (damaged ones are quarantined and
   * reported; a damaged key is replaced), and creates the buckets the registry names and the
   * stages' state buckets.
   */
  static async open(options: LocalWorldOptions): Promise<LocalWorld> {
    sweepWorldTemps(options.home);
    const world = new LocalWorld(options);
    world.buckets.sweep();
    world.functions.sweep();
    // Damage is found and reported at start, not by the first deployment that needs the file.
    await world.functions.checkStored();
    await world.buckets.check();
    world.outbox.list();
    const buckets = new Set<string>();
    for (const stage of STAGES) {
      buckets.add(options.registry.stages[stage].sourceBucket);
      buckets.add(options.registry.stages[stage].artifactBucket);
      buckets.add(stateBucketOf(stage));
    }
    for (const bucket of buckets) await world.buckets.createBucket(bucket);
    await world.linkKeys.signingKeys();
    await world.decisionKeys.signingKeys();
    return world;
  }

  /** Starts alarm evaluation, traffic and the scheduled canary. */
  start(): void {
    this.alarms.start();
    this.#traffic.start();
    const every = this.#options.canaryIntervalMs ?? 0;
    if (every > 0) {
      this.#canaryTimer = setInterval(
        () => void this.runScheduledCanary().catch(() => undefined),
        every,
      );
      this.#canaryTimer.unref();
    }
  }

  runScheduledCanary() {
    return runScheduledCanary(this.registry, "prod", {
      functions: this.functions,
      metrics: this.metrics,
    });
  }

  /** What a stage's functions get: the same ports as in AWS, backed by this world. */
  portsFor(stage: Stage, workflows: WorkflowCallbacks): WorkflowPorts {
    return {
      records: this.buckets.records(stateBucketOf(stage)),
      artifacts: this.buckets,
      functions: this.functions,
      alarms: this.alarms,
      metrics: this.metrics,
      versionMetrics: this.versionMetrics,
      mailer: this.outbox,
      workflows,
      secrets: this.linkKeys,
      decisionKeys: this.decisionKeys,
      clock: { now: () => Date.now() },
      scheduler: this.schedulers[stage],
      approvalBaseUrl: this.#options.approvalBaseUrl,
      sender: this.#options.sender ?? "gantry@localhost",
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#canaryTimer);
    this.#traffic.stop();
    this.alarms.stop();
    for (const scheduler of Object.values(this.schedulers)) scheduler.close();
    await this.functions.close();
  }
}

/**
 * Removes the temporary files of torn writes the world's own files left: the key files' at the
 * top of the data directory and the outbox's. (Buckets and functions sweep their own
 * directories, where a user's object or code file may look like a temporary file.)
 */
function sweepWorldTemps(home: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(home);
  } catch {
    return;
  }
  for (const name of names)
    if (LEGACY_KEY_TEMPS.includes(name) || TEMP_FILE.test(name))
      rmSync(join(home, name), { force: true });
  sweepTempFiles(join(home, "outbox"));
}

/**
 * The alarms of the local world. Every alarm a service names stands for the error rate of that
 * stage's alias; Gantry's own alarms watch RollbackFailed and the scheduled canary. Periods are
 * a minute of policy time, scaled.
 */
export function alarmSpecs(registry: Registry, timeScale: number): AlarmSpec[] {
  const period = 60_000 * timeScale;
  const specs: AlarmSpec[] = [];
  for (const [service, definition] of Object.entries(registry.services)) {
    for (const stage of STAGES) {
      const target = definition.stages[stage];
      for (const name of target.alarms)
        specs.push(errorRateAlarm(name, target.functionName, target.alias, period));
    }
    specs.push(
      gantryMetricAlarm(
        `${service}-canary`,
        CANARY_FAILURES_METRIC,
        { Service: service, Stage: "prod" },
        period * 60,
        `scheduled canary checks of ${service} failing in prod`,
      ),
    );
    for (const stage of STAGES) {
      specs.push(
        gantryMetricAlarm(
          `${service}-${stage}-rollback-failed`,
          ROLLBACK_FAILED_METRIC,
          { Service: service, Stage: stage },
          period,
          `a ${stage} rollback of ${service} could not restore the previous version`,
        ),
      );
    }
  }
  return specs;
}

function trafficTargets(options: LocalWorldOptions): TrafficTarget[] {
  const targets: TrafficTarget[] = [];
  for (const [service, definition] of Object.entries(options.registry.services)) {
    for (const stage of STAGES) {
      const target = definition.stages[stage];
      const events =
        options.trafficEvents?.(service, stage) ?? definition.canary.checks.map((c) => c.event);
      targets.push({ functionName: target.functionName, alias: target.alias, events });
    }
  }
  return targets;
}
