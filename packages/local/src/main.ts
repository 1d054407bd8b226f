/**
 * `npm start`: the embedded local control plane, running the app's registry with the services'
 * code and traffic from the app's local configuration (gantry.local.ts).
 *
 * Settings come from the environment (settings.ts, docs/local.md): GANTRY_HOME, GANTRY_SFN_PORT,
 * GANTRY_WEB_PORT, GANTRY_TIME_SCALE, GANTRY_TRAFFIC_RPS, GANTRY_LOG_LEVEL, GANTRY_REGISTRY,
 * GANTRY_LOCAL_CONFIG, GANTRY_SMTP_URL, GANTRY_CANARY_INTERVAL, GANTRY_RETENTION_DAYS,
 * GANTRY_RETENTION_COUNT. (GANTRY_CRASH_AT is a test hook: crash-points.ts.)
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startLocalControlPlane } from "./local-control-plane.ts";
import { silenceNegativeTimeoutWarnings } from "./quiet-warnings.ts";
import { type LocalSettings, localSettings, SettingError } from "./settings.ts";
import { writeFileDurably } from "./storage/durable-file.ts";

silenceNegativeTimeoutWarnings();

const settings = await localSettings(process.env).catch((error: unknown) => {
  console.error(`gantry: ${error instanceof SettingError ? error.message : String(error)}`);
  process.exit(2);
});
const home = settings.home;
// The data directory holds keys, task tokens and decisions: the local user's alone.
mkdirSync(home, { recursive: true, mode: 0o700 });
chmodSync(home, 0o700);
const pidFile = join(home, "control-plane.pid");
claimDataDirectory(pidFile);

try {
  const local = await startLocalControlPlane(settings);
  // Whole or not at all: the CLI reads it to find this control plane.
  writeFileDurably(
    join(home, "endpoints.json"),
    JSON.stringify({ sfn: local.sfnEndpoint, web: local.webEndpoint, pid: process.pid }),
  );
  const minute = Math.round(60 * settings.timeScale * 10) / 10;
  console.log(
    [
      "Gantry local control plane is running.",
      `  Step Functions + S3 API  ${local.sfnEndpoint}   state machines gantry-preprod, gantry-prod`,
      `  Console                  ${local.webEndpoint}/   executions, the live graph, traffic and alarms`,
      `  Approval emails          ${local.webEndpoint}/outbox`,
      `  Data                     ${home}   (1 policy minute = ${minute} s)`,
      ...servicesLines(settings),
      ...damagedLines(local.quarantine.files),
      "Next, in another terminal:",
      ...(settings.localConfig.hints ?? []).map((hint) => `  ${hint}`),
      "  npx gantry deploy --help          deploy your own build (README.md, docs/ci.md)",
      "Ctrl-C stops the control plane.",
    ].join("\n"),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(
      `\n${signal}: stopping running executions (their traffic is rolled back, their locks released), then exiting.`,
    );
    await local.close();
    rmSync(pidFile, { force: true });
    rmSync(join(home, "endpoints.json"), { force: true });
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
} catch (error) {
  rmSync(pidFile, { force: true });
  console.error(
    `gantry: could not start the local control plane: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}

/** Which services run what: code from the local configuration, or the placeholder. */
function servicesLines(settings: LocalSettings): string[] {
  const names = Object.keys(settings.registry.services).sort();
  const configured = settings.localConfig.services ?? {};
  const placeholder = names.filter((name) => !configured[name]?.initialCode);
  const own = names.filter((name) => configured[name]?.initialCode);
  const lines: string[] = [];
  if (own.length > 0)
    lines.push(
      `  Services                 ${own.join(", ")}   (initial code: ${settings.localConfigFile})`,
    );
  if (placeholder.length > 0)
    lines.push(
      `  ${own.length > 0 ? "        " : "Services"}                 ${placeholder.join(", ")}   (initial code: the placeholder, docs/local.md)`,
    );
  return lines;
}

/** Damaged files found at start: named again in the banner (each was logged when found). */
function damagedLines(files: readonly { file: string; quarantinedAs: string }[]): string[] {
  if (files.length === 0) return [];
  return [
    `  Damaged files            ${files.length} moved aside; see the console and docs/operations.md ("A damaged file in the data directory")`,
    ...files.map((f) => `    ${f.file} -> ${f.quarantinedAs}`),
  ];
}

/**
 * One control plane per data directory: a second one would race the first on its files. A pid
 * file that is not a number (torn) claims nothing.
 */
function claimDataDirectory(file: string): void {
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, "utf8"));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      console.error(
        `gantry: another control plane (pid ${pid}) is using ${home}; stop it or set GANTRY_HOME`,
      );
      process.exit(1);
    }
  }
  writeFileDurably(file, String(process.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
