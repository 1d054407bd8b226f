import type { IncomingMessage, ServerResponse } from "node:http";
import { STAGES } from "@gantry/core";
import type { LocalControlPlane, WebRoute } from "../local-control-plane.ts";
import type { DamagedFile } from "../storage/durable-file.ts";
import { FunctionDamaged } from "../world/functions.ts";

/**
 * GET /api/world: what the local world looks like now, as JSON: each registered service's alias
 * per stage (primary version and weights), every alarm with its state, and invocation and error
 * counts per function and version over the metrics' retention, and the damaged files found
 * (moved to the quarantine) since the start. Read-only; for the demo, tests and anyone scripting
 * against the local control plane. The body is computed before anything is sent: a failure is
 * a 500 with a JSON error, never a hung response.
 */
export const worldApiRoute: WebRoute = async (
  req: IncomingMessage,
  res: ServerResponse,
  local: LocalControlPlane,
) => {
  if (req.method !== "GET" || new URL(req.url ?? "/", "http://local").pathname !== "/api/world")
    return false;
  let body: string;
  let status = 200;
  try {
    body = JSON.stringify(await worldSnapshot(local));
  } catch (error) {
    status = 500;
    body = JSON.stringify({
      error: error instanceof Error ? error.name : "Error",
      message: error instanceof Error ? error.message : String(error),
    });
  }
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(body);
  return true;
};

export interface WorldSnapshot {
  readonly services: Record<
    string,
    Record<
      string,
      {
        functionName: string;
        alias: string;
        version?: string;
        weights?: Record<string, number>;
        /** Why the alias cannot be read: the function's function.json was damaged (FunctionDamaged). */
        damaged?: string;
      }
    >
  >;
  readonly alarms: { name: string; state: string; reason: string; updatedAt: string }[];
  readonly invocations: {
    functionName: string;
    version: string;
    invocations: number;
    errors: number;
  }[];
  /** The damaged files found since the start, where they were moved, and why (oldest first). */
  readonly damaged: readonly DamagedFile[];
}

export async function worldSnapshot(local: LocalControlPlane): Promise<WorldSnapshot> {
  const { world } = local;
  const services: WorldSnapshot["services"] = {};
  for (const [service, definition] of Object.entries(world.registry.services)) {
    services[service] = {};
    for (const stage of STAGES) {
      const target = definition.stages[stage];
      let damaged: string | undefined;
      const alias = await world.functions
        .getAlias(target.functionName, target.alias)
        .catch((error: unknown) => {
          if (!(error instanceof FunctionDamaged)) throw error;
          damaged = error.message;
          return undefined;
        });
      services[service][stage] = {
        functionName: target.functionName,
        alias: target.alias,
        ...(alias ? { version: alias.version, weights: alias.weights } : {}),
        ...(damaged ? { damaged } : {}),
      };
    }
  }
  // Every invocation is recorded per resource (function or alias) and version: add them up per version.
  const now = Date.now();
  const totals = new Map<
    string,
    { functionName: string; version: string; invocations: number; errors: number }
  >();
  for (const series of world.metrics.series()) {
    const dims = series.dimensions;
    if (
      series.namespace !== "AWS/Lambda" ||
      series.name !== "Invocations" ||
      !dims.ExecutedVersion ||
      !dims.FunctionName
    )
      continue;
    const key = `${dims.FunctionName}:${dims.ExecutedVersion}`;
    const total = totals.get(key) ?? {
      functionName: dims.FunctionName,
      version: dims.ExecutedVersion,
      invocations: 0,
      errors: 0,
    };
    total.invocations +=
      world.metrics.statistic("AWS/Lambda", "Invocations", dims, 0, now + 1, "Sum") ?? 0;
    total.errors += world.metrics.statistic("AWS/Lambda", "Errors", dims, 0, now + 1, "Sum") ?? 0;
    totals.set(key, total);
  }
  const invocations = [...totals.values()].sort(
    (a, b) => a.functionName.localeCompare(b.functionName) || Number(a.version) - Number(b.version),
  );
  const alarms = world.alarms
    .list()
    .map(({ name, state, reason, updatedAt }) => ({ name, state, reason, updatedAt }));
  return { services, alarms, invocations, damaged: [...local.quarantine.files] };
}
