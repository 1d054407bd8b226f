import {
  type DeploymentRequest,
  type FieldIssue,
  InvalidInput,
  parseDeploymentRequest,
  type Registry,
  resolvePlan,
  type Stage,
  serviceOf,
} from "@gantry/core";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

/** The flag each request field comes from, to report problems in the command's own terms. */
export const FIELD_FLAGS: Readonly<Record<string, string>> = {
  service: "--service",
  version: "--version",
  "artifact.key": "--artifact-key",
  "artifact.sha256": "--sha256",
  "trigger.actor": "--actor",
  "trigger.ciRunUrl": "--ci-run-url",
  fixFor: "--fix-for",
};

/** The values a deploy was given (each may be missing). */
export interface RequestValues {
  readonly service?: string | undefined;
  readonly version?: string | undefined;
  readonly artifactKey?: string | undefined;
  readonly sha256?: string | undefined;
  readonly actor?: string | undefined;
  readonly ciRunUrl?: string | undefined;
  /** `--fix-for`, once per alarm; empty or absent for an ordinary deployment. */
  readonly fixFor?: readonly string[] | undefined;
}

/** The StartExecution input, exactly as it will be sent (absent values stay absent). */
export function requestInput(values: RequestValues): Record<string, unknown> {
  return {
    ...(values.service !== undefined ? { service: values.service } : {}),
    ...(values.version !== undefined ? { version: values.version } : {}),
    artifact: {
      ...(values.artifactKey !== undefined ? { key: values.artifactKey } : {}),
      ...(values.sha256 !== undefined ? { sha256: values.sha256 } : {}),
    },
    trigger: {
      ...(values.actor !== undefined ? { actor: values.actor } : {}),
      ...(values.ciRunUrl !== undefined ? { ciRunUrl: values.ciRunUrl } : {}),
    },
    // No --fix-for: no field at all, so an ordinary deployment's input is what it always was.
    ...(values.fixFor !== undefined && values.fixFor.length > 0 ? { fixFor: values.fixFor } : {}),
  };
}

/**
 * An InvalidInput's issues, named by flag: "--version: must be a git commit SHA ...". One value
 * of a repeatable flag is named by its position: `fixFor.1` is "--fix-for (2nd)".
 */
export function flagIssues(issues: readonly FieldIssue[]): FieldIssue[] {
  return issues.map((issue) => ({
    field: FIELD_FLAGS[issue.field] ?? listItemFlag(issue.field) ?? issue.field,
    reason: issue.reason,
  }));
}

function listItemFlag(field: string): string | undefined {
  const match = /^(\w+)\.(\d+)$/.exec(field);
  const flagName = match ? FIELD_FLAGS[match[1] ?? ""] : undefined;
  return flagName ? `${flagName} (${ordinal(Number(match?.[2]) + 1)})` : undefined;
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${suffix}`;
}

/** A usage error (exit 2) listing every problem. */
export function invalidInput(
  issues: readonly FieldIssue[],
  hints: readonly string[] = [],
): CliError {
  const named = flagIssues(issues);
  return new CliError(
    ExitCode.Usage,
    `invalid input:\n${named.map((i) => `  ${i.field}: ${i.reason}`).join("\n")}`,
    hints,
    { issues: named },
  );
}

/**
 * Checks a deployment request as the workflow's ValidateInput will, before anything is
 * called: the core schema (every field, every reason at once), then the registry (the service
 * is registered, the key is under its prefix). Throws a usage error (exit 2) naming each flag
 * that is wrong; an unknown service's error lists the known ones.
 *
 * @example
 * ```ts
 * const request = validateRequest(values, registry, "prod");
 * ```
 */
export function validateRequest(
  values: RequestValues,
  registry: Registry,
  stage: Stage,
): DeploymentRequest {
  let request: DeploymentRequest;
  const issues: FieldIssue[] = [];
  try {
    request = parseDeploymentRequest(requestInput(values));
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    issues.push(...error.issues);
    if (values.service && !serviceOf(registry, values.service)) {
      issues.push(unknownService(registry));
    }
    throw invalidInput(issues, hintsFor(issues, registry));
  }
  try {
    resolvePlan(registry, stage, request, { timeScale: 1 });
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    const registryIssues = error.issues.map((issue) =>
      issue.field === "service" ? unknownService(registry) : issue,
    );
    throw invalidInput(registryIssues, hintsFor(registryIssues, registry));
  }
  return request;
}

function unknownService(registry: Registry): FieldIssue {
  const known = Object.keys(registry.services).sort();
  return {
    field: "service",
    reason: `is not a registered service (known: ${known.length > 0 ? known.join(", ") : "none"})`,
  };
}

function hintsFor(issues: readonly FieldIssue[], registry: Registry): string[] {
  const hints: string[] = [];
  const fields = new Set(issues.map((i) => i.field));
  if (fields.has("service")) {
    hints.push("services are registered in gantry.registry.ts");
  }
  if (fields.has("artifact.key") || fields.has("artifact.sha256")) {
    hints.push("`gantry artifact publish` prints the key and SHA-256 to deploy");
  }
  if (fields.has("trigger.actor")) {
    hints.push("pass --actor NAME (letters, digits and . _ @ + [ ] -)");
  }
  if ([...fields].some((f) => f === "fixFor" || f.startsWith("fixFor."))) {
    hints.push("--fix-for names one of the stage's registry alarms, once per alarm");
  }
  if (Object.keys(registry.services).length === 0) hints.push("the registry has no services yet");
  return hints;
}
