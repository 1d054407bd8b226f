import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { html } from "@gantry/core";
import { executionArn } from "../../control-plane/arns.ts";
import type { LocalControlPlane, WebRoute } from "../../local-control-plane.ts";
import { page, sendPage } from "../layout.ts";
import { DeploymentWorld } from "./deployment-world.ts";
import { type LoadedExecution, loadExecution, readHistory, track } from "./execution-data.ts";
import { executionPath, renderExecutionPage, renderStatePanel } from "./execution-page.ts";
import {
  EXECUTION_STATUSES,
  ExecutionCatalog,
  type ExecutionFilter,
  type ExecutionListing,
} from "./executions.ts";
import { layoutOf } from "./graph-layout.ts";
import { renderListPage } from "./list-page.ts";
import { lastEventIdOf, streamExecution } from "./live.ts";

/**
 * The console, served by the local web server (docs/console.md):
 *
 *     GET /                                            executions, newest first
 *                                                      (?service= &status= &stage= &page=)
 *     GET /executions/<state machine>/<name>           the execution view (?state=<name>)
 *     GET /executions/<state machine>/<name>/events    its live updates (server-sent events)
 *     GET /executions/<state machine>/<name>/states/<state>   a state's details (HTML fragment)
 *     GET /console/console.js                          the page's script (client.js)
 *
 * Everything works without JavaScript; the script adds live updates, in-place state details
 * and zoom.
 */
export function consoleRoute(): WebRoute {
  const perPlane = new WeakMap<LocalControlPlane, Shared>();
  const shared = (local: LocalControlPlane): Shared => {
    let entry = perPlane.get(local);
    if (!entry) {
      entry = {
        catalog: new ExecutionCatalog(local.stepFunctions),
        world: new DeploymentWorld(local.world),
      };
      perPlane.set(local, entry);
      // Lay the state machines out now, so the first execution view does not wait for ELK.
      for (const machine of local.stepFunctions.listStateMachines()) {
        const { definition } = local.stepFunctions.describeStateMachine(machine.stateMachineArn);
        void layoutOf(definition).catch(() => undefined);
      }
    }
    return entry;
  };

  return async (req: IncomingMessage, res: ServerResponse, local: LocalControlPlane) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const url = new URL(req.url ?? "/", "http://local");
    if (url.pathname === "/") {
      listPage(res, url, local, shared(local).catalog);
      return true;
    }
    if (url.pathname === "/console/console.js") {
      sendClient(res);
      return true;
    }
    const match = EXECUTION_PATH.exec(url.pathname);
    if (!match?.[1] || !match[2]) return false;
    const stateMachine = safeDecode(match[1]);
    const name = safeDecode(match[2]);
    const loaded =
      stateMachine && name
        ? await loadExecution(local.stepFunctions, executionArn(stateMachine, name))
        : undefined;
    if (!loaded) {
      notFound(res);
      return true;
    }
    const context = executionContext(local, shared(local), loaded);
    const sub = match[3];
    if (sub === "events") {
      streamExecution(req, res, loaded, context.live, lastEventIdOf(req, url));
    } else if (sub?.startsWith("states/")) {
      stateFragment(res, context, safeDecode(sub.slice("states/".length)));
    } else {
      await executionPage(res, context, url.searchParams.get("state") ?? undefined);
    }
    return true;
  };
}

const EXECUTION_PATH = /^\/executions\/([^/]+)\/([^/]+)(?:\/(events|states\/[^/]+))?$/;
const PAGE_SIZE = 50;

/** What the route keeps per control plane: the list's memo, the approval records read. */
interface Shared {
  readonly catalog: ExecutionCatalog;
  readonly world: DeploymentWorld;
}

interface ExecutionContext {
  readonly local: LocalControlPlane;
  readonly loaded: LoadedExecution;
  readonly listing: ExecutionListing;
  readonly live: Parameters<typeof streamExecution>[3];
}

function executionContext(
  local: LocalControlPlane,
  shared: Shared,
  loaded: LoadedExecution,
): ExecutionContext {
  const listing = shared.catalog.listingOf(loaded.record);
  const world = () =>
    shared.world.snapshot({
      executionArn: listing.executionArn,
      service: listing.service,
      stage: listing.stage,
    });
  return { local, loaded, listing, live: { stepFunctions: local.stepFunctions, world, listing } };
}

/** The execution view, from the whole history as it is now. */
async function executionPage(
  res: ServerResponse,
  context: ExecutionContext,
  state: string | undefined,
): Promise<void> {
  const { loaded, listing } = context;
  const { tracker, rows } = track(
    loaded.layout,
    readHistory(context.local.stepFunctions, listing.executionArn),
  );
  const selected =
    state && loaded.layout.graph.nodes.some((n) => n.name === state) ? state : undefined;
  sendPage(
    res,
    200,
    renderExecutionPage({
      listing,
      layout: loaded.layout,
      tracker,
      rows,
      world: await context.live.world(),
      ...(selected ? { selected } : {}),
      path: executionPath(listing.stateMachineName, listing.name),
      now: Date.now(),
      damaged: context.local.quarantine.files,
    }),
  );
}

/** One state's details, for the script to put in place. */
function stateFragment(res: ServerResponse, context: ExecutionContext, state: string | undefined) {
  const { loaded, listing } = context;
  const { tracker } = track(
    loaded.layout,
    readHistory(context.local.stepFunctions, listing.executionArn),
  );
  res.writeHead(200, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(renderStatePanel({ layout: loaded.layout, tracker }, state).value);
}

/** The executions list: filtered, newest first, a page of it with outcomes. */
function listPage(
  res: ServerResponse,
  url: URL,
  local: LocalControlPlane,
  catalog: ExecutionCatalog,
): void {
  const stages = catalog.stages();
  const param = (name: string) => url.searchParams.get(name)?.trim() || undefined;
  const status = param("status");
  const stage = param("stage");
  const service = param("service");
  const filter: ExecutionFilter = {
    ...(service ? { service } : {}),
    ...(status && (EXECUTION_STATUSES as readonly string[]).includes(status) ? { status } : {}),
    ...(stage && stages.includes(stage) ? { stage } : {}),
  };
  const all = catalog.list(filter);
  const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  const requested = Number(url.searchParams.get("page") ?? "1");
  const pageNumber = Number.isInteger(requested) ? Math.min(Math.max(requested, 1), pages) : 1;
  const rows = all
    .slice((pageNumber - 1) * PAGE_SIZE, pageNumber * PAGE_SIZE)
    .map((row) => ({ ...row, outcome: catalog.outcome(row) }));
  const known = new Set([...Object.keys(local.world.registry.services), ...catalog.services()]);
  known.delete("?");
  if (service) known.add(service);
  sendPage(
    res,
    200,
    renderListPage({
      rows,
      total: all.length,
      filter,
      page: pageNumber,
      pageSize: PAGE_SIZE,
      services: [...known].sort(),
      stages,
      now: Date.now(),
      damaged: local.quarantine.files,
    }),
  );
}

let client: string | undefined;

/** The browser module, read once. Same origin: the CSP allows script-src 'self'. */
function sendClient(res: ServerResponse): void {
  client ??= readFileSync(new URL("./client.js", import.meta.url), "utf8");
  res.writeHead(200, {
    "content-type": "text/javascript; charset=utf-8",
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  res.end(client);
}

function notFound(res: ServerResponse): void {
  sendPage(
    res,
    404,
    page(
      "No such execution",
      html`<h1>No such execution</h1><p><a href="/">Back to the executions</a></p>`,
    ),
  );
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
