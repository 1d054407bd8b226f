/**
 * The control plane the demo talks to: the one `npm start` runs, if it is running (watch the
 * demo in its console), else a private one started here on free ports and a fresh data
 * directory (GANTRY_DEMO_PRIVATE=1 forces that; CI does).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gantryHome, readLocalEndpoints } from "@gantry/cli";
import {
  localSettings,
  silenceNegativeTimeoutWarnings,
  startLocalControlPlane,
} from "@gantry/local";

export interface Plane {
  /** The Step Functions + S3 endpoint, e.g. http://127.0.0.1:8083. */
  readonly api: string;
  /** The web endpoint: console, approval pages, outbox. */
  readonly web: string;
  /** The data directory (its outbox is where the approval emails are). */
  readonly home: string;
  readonly private: boolean;
  close(): Promise<void>;
}

/**
 * A view of the local world as the console shows it (GET /api/world): each service's alias per
 * stage, and invocations and errors per function version.
 */
export interface WorldView {
  readonly services: Record<
    string,
    Record<string, { version?: string; weights?: Record<string, number> } | undefined> | undefined
  >;
  readonly alarms: readonly { name: string; state: string }[];
  readonly invocations: readonly {
    functionName: string;
    version: string;
    invocations: number;
    errors: number;
  }[];
}

export async function connect(env: NodeJS.ProcessEnv = process.env): Promise<Plane> {
  if (env.GANTRY_DEMO_PRIVATE !== "1") {
    const home = gantryHome(process.cwd(), env);
    const running = readLocalEndpoints(home);
    if (running?.alive && running.endpoints.web) {
      return {
        api: running.endpoints.sfn,
        web: running.endpoints.web,
        home,
        private: false,
        close: async () => undefined,
      };
    }
  }
  silenceNegativeTimeoutWarnings();
  const settings = await localSettings(env);
  const home = env.GANTRY_HOME ? settings.home : mkdtempSync(join(tmpdir(), "gantry-demo-"));
  const local = await startLocalControlPlane({
    ...settings,
    home,
    sfnPort: 0,
    webPort: 0,
    timeScale: env.GANTRY_TIME_SCALE ? settings.timeScale : 0.02,
    // Enough prod traffic that one failed request of v5 is under 5% of an alarm period's
    // requests (story 4: the failure must hide from the alias's alarm, not from the analysis).
    trafficPerSecond: env.GANTRY_TRAFFIC_RPS ? settings.trafficPerSecond : 50,
    // The story is told by the demo; failed steps are part of it, not warnings.
    functionLogLevel: env.GANTRY_LOG_LEVEL ? settings.functionLogLevel : "ERROR",
  });
  return {
    api: local.sfnEndpoint,
    web: local.webEndpoint,
    home,
    private: true,
    async close() {
      await local.close();
      if (!env.GANTRY_HOME) rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The local world as the console shows it now. */
export async function worldView(plane: Plane): Promise<WorldView> {
  const response = await fetch(`${plane.web}/api/world`);
  if (!response.ok) throw new Error(`${plane.web}/api/world answered ${response.status}`);
  return (await response.json()) as WorldView;
}
