/**
 * Runs a function's real exported `handler` (`functions/<name>.ts`) as Lambda would: in a
 * fresh module graph of its own (as each Lambda has its own container), with exactly the
 * environment the stack gives it plus what the Lambda runtime sets, against a fake AWS that
 * records every call.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { vi } from "vitest";
import { FakeAws, type RecordedCall, useFakeAws } from "./fake-aws.ts";
import {
  envOf,
  type Installation,
  ROOT,
  runtimeEnvironment,
  specsOf,
  stackEnvironment,
} from "./installations.ts";
import { baseWorld, NOW, type Scenario, scenarioContext } from "./scenarios.ts";

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** What one run of a handler did. */
export interface Run {
  readonly calls: readonly RecordedCall[];
  readonly result?: unknown;
  readonly error?: Error;
  /** What the function logged (Powertools' JSON lines and EMF documents). */
  readonly logs: string;
  /** Why the run did not come to what the scenario says, if it did not. */
  readonly problem?: string;
  /** The environment the handler ran in. */
  readonly environment: Readonly<Record<string, string>>;
}

/** Settings that come from outside: none of them may leak into a function's environment. */
const OUTSIDE = /^(GANTRY_|POWERTOOLS_|SST_|AWS_|_X_AMZN_|LAMBDA_)/;

function lambdaContext(installation: Installation, file: string): Context {
  const { region, accountId } = envOf(installation);
  const name = `gantry-${installation.stage}-${file}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${name}`,
    memoryLimitInMB: "512",
    awsRequestId: "11111111-2222-3333-4444-555555555555",
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "2026/11/01/[$LATEST]0123456789abcdef",
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * The environment a deployed function runs in: the stack's (stacks/environment.ts) and the
 * Lambda runtime's, and nothing from the machine running the tests.
 */
export function lambdaEnvironment(
  installation: Installation,
  file: string,
): Record<string, string> {
  const spec = specOf(installation, file);
  return { ...runtimeEnvironment(installation, file), ...stackEnvironment(installation, spec) };
}

function specOf(installation: Installation, file: string) {
  const spec = specsOf(installation).find((s) => s.file === file);
  if (!spec) throw new Error(`functions/${file}.ts is not deployed in ${installation.stage}`);
  return spec;
}

/**
 * Runs one scenario through a function's handler, freshly imported in the function's own
 * environment.
 *
 * @example
 * ```ts
 * const run = await runScenario(installation, "acquire-lock", scenario);
 * run.calls; // [{ service: "s3", command: "PutObject", input: { ... } }]
 * ```
 */
export async function runScenario(
  installation: Installation,
  file: string,
  scenario: Scenario,
): Promise<Run> {
  const environment = lambdaEnvironment(installation, file);
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (OUTSIDE.test(name)) delete process.env[name];
  Object.assign(process.env, environment);

  const aws = useFakeAws(new FakeAws());
  const ctx = scenarioContext(installation, aws);
  baseWorld(ctx);
  scenario.arrange?.(ctx);

  const chunks: string[] = [];
  const capture = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  const write = vi.spyOn(process.stdout, "write").mockImplementation(capture);
  const writeError = vi.spyOn(process.stderr, "write").mockImplementation(capture);
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  let result: unknown;
  let error: Error | undefined;
  try {
    // A fresh module graph: the function's lazy ports, clients and caches are its own.
    vi.resetModules();
    const module = (await import(
      pathToFileURL(path.join(ROOT, "functions", `${file}.ts`)).href
    )) as {
      handler: Handler;
    };
    result = await module.handler(scenario.event(ctx), lambdaContext(installation, file));
  } catch (thrown) {
    error = thrown instanceof Error ? thrown : new Error(String(thrown));
  } finally {
    vi.useRealTimers();
    write.mockRestore();
    writeError.mockRestore();
    for (const name of Object.keys(process.env)) delete process.env[name];
    Object.assign(process.env, saved);
  }
  const problem = problemOf(scenario, result, error, ctx);
  return {
    calls: [...aws.calls],
    ...(error ? { error } : { result }),
    logs: chunks.join(""),
    ...(problem ? { problem } : {}),
    environment,
  };
}

function problemOf(
  scenario: Scenario,
  result: unknown,
  error: Error | undefined,
  ctx: Parameters<NonNullable<Scenario["returns"]>>[1],
): string | undefined {
  if (scenario.fails) {
    if (!error) return `expected ${scenario.fails}, but it returned ${JSON.stringify(result)}`;
    if (error.name !== scenario.fails)
      return `expected ${scenario.fails}, but it failed with ${error.name}: ${error.message}`;
    return undefined;
  }
  if (error) return `it failed with ${error.name}: ${error.message}`;
  try {
    scenario.returns?.(result, ctx);
  } catch (mismatch) {
    return `it returned something else: ${(mismatch as Error).message}`;
  }
  return undefined;
}
