import { randomBytes } from "node:crypto";
import { approversActingAs, LOCAL_OPERATOR } from "../approval/operators.ts";
import { sha256Hex } from "../checksum.ts";
import type {
  Clock,
  ExecutionStatus,
  Log,
  RecordBytes,
  RecordBytesReader,
  RecordStore,
  WorkflowCallbacks,
} from "../ports.ts";
import type { Registry } from "../registry.ts";
import { recordKeys } from "../state.ts";
import { displayText } from "../text.ts";
import { type LockRecord, lockProblem } from "./acquire-lock.ts";

/**
 * Breaking a deployment lock by hand (`gantry unlock`), for the one case Gantry does not
 * handle by itself: a lock object it cannot read (`LockDamaged`). A readable lock whose owner
 * finished is taken over by the next deployment anyway; breaking it is allowed too, and
 * audited the same way.
 *
 * Every check runs before anything is written: the caller is a registered operator; the lock
 * exists and is still the bytes the operator looked at (`etag`); its owner is not running (for
 * a damaged lock, whose owner cannot be read, `forceDamaged` is required, and an execution ARN
 * still legible in the bytes must not be running either). Then an audit record is created
 * (who, as the transport proved it; when; why; the lock's bytes and their SHA-256), the lock is
 * deleted only if it still has the ETag that was inspected, and the audit record is completed
 * with the result.
 */
export interface BreakLockDeps {
  readonly records: Pick<RecordStore, "create" | "replace" | "delete">;
  readonly bytes: RecordBytesReader;
  readonly workflows: Pick<WorkflowCallbacks, "executionStatus">;
  readonly operators: Registry["operators"];
  /** The stage whose state bucket `records` is. */
  readonly stage: string;
  readonly clock: Clock;
  readonly log?: Log;
}

/** What `gantry unlock` asks for. */
export interface BreakLockRequest {
  readonly service: string;
  /**
   * The identity the transport authenticated (an IAM principal ARN, or {@link LOCAL_OPERATOR}).
   * Never a name the caller typed.
   */
  readonly principal: string;
  readonly reason: string;
  /** The ETag of the lock the operator inspected: refused (409) if the lock is no longer it. */
  readonly etag?: string;
  /** Break a lock whose owner cannot be read (not JSON, or not a lock). */
  readonly forceDamaged?: boolean;
}

/** What the lock object holds, as an operator needs to judge it. */
export interface LockInspection {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly sha256: string;
  /** Set when the object is not a readable lock: what is wrong with it. */
  readonly damaged?: string;
  /** The parsed lock, when it is one. */
  readonly lock?: LockRecord;
  /** The lock's owner, or for a damaged lock an execution ARN still legible in its bytes. */
  readonly owner?: string;
  /** The owner's status in Step Functions; NOT_FOUND when it does not know the execution. */
  readonly ownerStatus?: ExecutionStatus | "NOT_FOUND";
}

/** The audit record written for every attempt to break a lock. */
export interface LockBreakAuditRecord {
  readonly kind: "lock-break";
  readonly stage: string;
  readonly service: string;
  readonly key: string;
  /** The authenticated principal, and the operators (approver emails) the registry maps it to. */
  readonly principal: string;
  readonly operators: readonly string[];
  readonly reason: string;
  readonly at: string;
  readonly forceDamaged: boolean;
  readonly previous: LockInspection & { readonly base64: string };
  /** "pending" until the conditional delete answered. */
  readonly result: "pending" | "broken" | "lock-changed";
}

export interface BreakLockOutcome {
  readonly broken: true;
  readonly key: string;
  readonly previous: LockInspection;
  readonly audit: string;
}

/** Why a lock may not be broken (or inspected), with the HTTP status the operator API answers. */
export class LockBreakRefused extends Error {
  override readonly name = "LockBreakRefused";
  readonly status: 400 | 403 | 404 | 409;
  readonly title: string;
  readonly inspection?: LockInspection;
  constructor(
    status: LockBreakRefused["status"],
    title: string,
    message: string,
    inspection?: LockInspection,
  ) {
    super(message);
    this.status = status;
    this.title = title;
    this.inspection = inspection;
  }
}

/** Longest reason kept in the audit record. */
export const MAX_UNLOCK_REASON_LENGTH = 500;
/** Largest lock object inspected; a lock Gantry writes is a few hundred bytes. */
const MAX_LOCK_BYTES = 64 * 1024;
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const EXECUTION_ARN = /arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_:.-]{1,160}/;

/**
 * Reads the service's lock without changing anything: what `gantry unlock` shows before it
 * breaks it. Throws {@link LockBreakRefused} (404) when there is no lock.
 *
 * @example
 * ```ts
 * const seen = await inspectLock({ service: "hello-service", principal }, deps);
 * seen.damaged; // "is not JSON", or undefined for a readable lock
 * ```
 */
export async function inspectLock(
  request: Pick<BreakLockRequest, "service" | "principal">,
  deps: BreakLockDeps,
): Promise<LockInspection> {
  operatorIdentities(request.principal, deps.operators);
  return (await inspectLockBytes(request, deps)).inspection;
}

/**
 * Breaks the service's lock, audited. Throws {@link LockBreakRefused} when it may not.
 *
 * @example
 * ```ts
 * const done = await breakLock({ service: "hello-service", principal, reason: "garbled by a bad restore", forceDamaged: true }, deps);
 * done.audit; // "audit/locks/hello-service/2026-11-30T17-00-00.000Z-1a2b3c4d.json"
 * ```
 */
export async function breakLock(
  request: BreakLockRequest,
  deps: BreakLockDeps,
): Promise<BreakLockOutcome> {
  const operators = operatorIdentities(request.principal, deps.operators);
  const reason = cleanReason(request.reason);
  const seen = await inspectLockBytes(request, deps);
  const { inspection, stored } = seen;
  if (request.etag !== undefined && request.etag !== inspection.etag) {
    throw new LockBreakRefused(
      409,
      "Lock changed",
      `the lock ${inspection.key} is no longer the one you inspected (ETag ${inspection.etag}, ` +
        `not ${request.etag}); nothing was deleted: look again`,
      inspection,
    );
  }
  if (inspection.ownerStatus === "RUNNING") {
    throw new LockBreakRefused(
      409,
      "Owner running",
      `${inspection.owner} is still running and holds ${inspection.key}: nothing was deleted. ` +
        "Let it finish, or stop it (gantry stop <execution>): a stopped deployment releases its lock.",
      inspection,
    );
  }
  if (inspection.damaged && !request.forceDamaged) {
    throw new LockBreakRefused(
      409,
      "Lock damaged",
      `the lock ${inspection.key} is damaged (it ${inspection.damaged}), so its owner cannot be ` +
        `checked: nothing was deleted. Make sure no deployment of ${request.service} is running, ` +
        "then pass --force-damaged (forceDamaged: true).",
      inspection,
    );
  }

  const at = new Date(deps.clock.now()).toISOString();
  const auditKey = `audit/locks/${request.service}/${at.replace(/:/g, "-")}-${randomBytes(4).toString("hex")}.json`;
  const audit: LockBreakAuditRecord = {
    kind: "lock-break",
    stage: deps.stage,
    service: request.service,
    key: inspection.key,
    principal: request.principal,
    operators,
    reason,
    at,
    forceDamaged: request.forceDamaged === true,
    previous: { ...inspection, base64: Buffer.from(stored.bytes).toString("base64") },
    result: "pending",
  };
  // The audit record first: a lock is never broken without one.
  const written = await deps.records.create(auditKey, audit);
  if (!written) throw new Error(`the audit record ${auditKey} already exists`);
  const deleted = await deps.records.delete(inspection.key, inspection.etag);
  const result = deleted ? "broken" : "lock-changed";
  await deps.records.replace(auditKey, { ...audit, result }, written.etag).catch((error) => {
    // The attempt is recorded ("pending") either way; only its result is missing.
    deps.log?.warn("could not complete the lock-break audit record", {
      auditKey,
      error: (error as Error).name,
    });
  });
  deps.log?.info("lock break", { key: inspection.key, principal: request.principal, result });
  if (!deleted) {
    throw new LockBreakRefused(
      409,
      "Lock changed",
      `the lock ${inspection.key} changed while it was being broken; nothing was deleted ` +
        `(the attempt is recorded in ${auditKey}): look again`,
      inspection,
    );
  }
  return { broken: true, key: inspection.key, previous: inspection, audit: auditKey };
}

async function inspectLockBytes(
  request: Pick<BreakLockRequest, "service" | "principal">,
  deps: BreakLockDeps,
): Promise<{ inspection: LockInspection; stored: RecordBytes }> {
  checkService(request.service);
  const key = recordKeys.lock(request.service);
  const stored = await deps.bytes.getBytes(key);
  if (!stored) {
    throw new LockBreakRefused(
      404,
      "No lock",
      `${request.service} (${deps.stage}) holds no lock: nothing to break`,
    );
  }
  return { inspection: await describeLock(key, request.service, stored, deps), stored };
}

async function describeLock(
  key: string,
  service: string,
  stored: RecordBytes,
  deps: BreakLockDeps,
): Promise<LockInspection> {
  const base = {
    key,
    etag: stored.etag,
    size: stored.bytes.byteLength,
    sha256: sha256Hex(stored.bytes),
  };
  let damaged: string | undefined;
  let lock: LockRecord | undefined;
  let owner: string | undefined;
  const text = Buffer.from(stored.bytes.subarray(0, MAX_LOCK_BYTES)).toString("utf8");
  if (stored.bytes.byteLength > MAX_LOCK_BYTES) damaged = "is too large to be a lock";
  else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
      damaged = lockProblem(parsed, service);
    } catch {
      damaged = "is not JSON";
    }
    if (!damaged) {
      lock = parsed as LockRecord;
      owner = lock.owner;
    }
  }
  // A damaged lock may still name its owner: if that execution runs, the lock is not abandoned.
  if (damaged) owner = EXECUTION_ARN.exec(text)?.[0];
  const ownerStatus = owner
    ? ((await deps.workflows.executionStatus(owner)) ?? "NOT_FOUND")
    : undefined;
  return {
    ...base,
    ...(damaged ? { damaged } : {}),
    ...(lock
      ? {
          lock: {
            owner: lock.owner,
            service: lock.service,
            version: lock.version,
            acquiredAt: lock.acquiredAt,
          },
        }
      : {}),
    ...(owner ? { owner } : {}),
    ...(ownerStatus ? { ownerStatus } : {}),
  };
}

function checkService(service: string): void {
  if (!SERVICE_NAME.test(service))
    throw new LockBreakRefused(400, "Bad request", "that is not a service name");
}

/** The operators (approver emails) a principal is; refused unless the registry maps it. */
function operatorIdentities(principal: string, operators: Registry["operators"]): string[] {
  const identities = approversActingAs(operators, principal);
  if (identities.length === 0) {
    const who = principal === LOCAL_OPERATOR ? "the local operator" : principal || "nobody";
    throw new LockBreakRefused(
      403,
      "Not an operator",
      `${who} is not a registered operator (gantry.registry.ts, operators): only operators may break a lock`,
    );
  }
  return [...identities];
}

function cleanReason(reason: string): string {
  // Control characters go; invisible and bidirectional ones are kept, shown escaped.
  const printable = [...reason]
    .map((c) => {
      const code = c.charCodeAt(0);
      // C0 controls, DEL and C1 controls (U+0000-U+001F, U+007F-U+009F).
      return code <= 0x1f || code === 0x7f || (code >= 0x80 && code <= 0x9f) ? " " : c;
    })
    .join("");
  const text = displayText(printable.trim());
  if (text.length < 3)
    throw new LockBreakRefused(400, "Bad request", "say why the lock is broken (--reason TEXT)");
  if (text.length > MAX_UNLOCK_REASON_LENGTH)
    throw new LockBreakRefused(
      400,
      "Bad request",
      `the reason is longer than ${MAX_UNLOCK_REASON_LENGTH} characters`,
    );
  return text;
}
