import type { WebRoute } from "../local-control-plane.ts";
import { approvalRoute } from "./approval-pages.ts";
import { consoleRoute } from "./console/index.ts";
import { operatorApiRoute } from "./operator-api.ts";
import { outboxRoute } from "./outbox-pages.ts";
import { worldApiRoute } from "./world-api.ts";

/** The local web server's routes, in the order they are tried. */
export function localWebRoutes(): WebRoute[] {
  return [approvalRoute(), operatorApiRoute, worldApiRoute, outboxRoute, consoleRoute()];
}
