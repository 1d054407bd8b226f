import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { SfnApiError } from "./errors.ts";

/**
 * ValidateStateMachineDefinition, locally: the definition is parsed, then checked with the
 * validation aws-local-stepfunctions runs before it executes anything (asl-validator's schema
 * and graph checks: bad Next targets, unreachable or missing terminal states, unknown fields,
 * malformed paths and ARNs), then for the three warnings AWS documents (NO_DOLLAR, NO_PATH,
 * PASS_RESULT_IS_STATIC). Codes are AWS's; as AWS says of its own, only `result` is a contract.
 *
 * What AWS checks that this does not: JSONata expressions and variables (accepted unchecked),
 * service-integration parameters, quotas on the definition's size and depth.
 */
export interface Diagnostic {
  readonly severity: "ERROR" | "WARNING";
  readonly code: string;
  readonly message: string;
  readonly location?: string;
}

export interface ValidationResult {
  readonly result: "OK" | "FAIL";
  readonly diagnostics: Diagnostic[];
  readonly truncated: boolean;
}

/** asl-validator's codes, as AWS names the same findings. */
const CODES: Record<string, string> = {
  MISSING_TERMINAL_STATE: "MISSING_END_STATE",
  MISSING_TRANSITION_TARGET: "SCHEMA_VALIDATION_FAILED",
};

export function validateDefinition(request: {
  definition?: unknown;
  type?: unknown;
  severity?: unknown;
  maxResults?: unknown;
}): ValidationResult {
  const { definition, type, severity, maxResults } = request;
  if (typeof definition !== "string" || definition.length < 1 || definition.length > 1_048_576)
    throw new SfnApiError(
      "ValidationException",
      "1 validation error detected: Value at 'definition' failed to satisfy constraint: Member must have length between 1 and 1048576",
    );
  if (type !== undefined && type !== "STANDARD" && type !== "EXPRESS")
    throw new SfnApiError(
      "ValidationException",
      `1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]`,
    );
  if (severity !== undefined && severity !== "ERROR" && severity !== "WARNING")
    throw new SfnApiError(
      "ValidationException",
      `1 validation error detected: Value '${String(severity)}' at 'severity' failed to satisfy constraint: Member must satisfy enum value set: [ERROR, WARNING]`,
    );
  if (
    maxResults !== undefined &&
    (typeof maxResults !== "number" ||
      !Number.isInteger(maxResults) ||
      maxResults < 0 ||
      maxResults > 100)
  )
    throw new SfnApiError(
      "ValidationException",
      `1 validation error detected: Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 100`,
    );

  const diagnostics = diagnose(definition).filter(
    (d) => severity !== "ERROR" || d.severity === "ERROR",
  );
  const limit = typeof maxResults === "number" && maxResults > 0 ? maxResults : 100;
  return {
    result: diagnostics.some((d) => d.severity === "ERROR") ? "FAIL" : "OK",
    diagnostics: diagnostics.slice(0, limit),
    truncated: diagnostics.length > limit,
  };
}

export function diagnose(text: string): Diagnostic[] {
  if (text.trim() === "")
    return [
      {
        severity: "ERROR",
        code: "MISSING_DESCRIPTION",
        message: "Received a null or empty workflow input.",
      },
    ];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return [
      {
        severity: "ERROR",
        code: "INVALID_JSON_DESCRIPTION",
        message: `JSON syntax problem found: ${(error as Error).message}`,
      },
    ];
  }
  const errors: Diagnostic[] = [];
  try {
    new StateMachine(parsed as StateMachineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
  } catch (error) {
    errors.push(...fromValidator((error as Error).message));
  }
  return [...errors, ...warnings(parsed)];
}

/** "State machine definition is invalid, see error(s) below:\n CODE: message\n..." */
function fromValidator(message: string): Diagnostic[] {
  const lines = message
    .split("\n")
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  if (lines.length === 0) return [{ severity: "ERROR", code: "SCHEMA_VALIDATION_FAILED", message }];
  return lines.map((line) => {
    const match = /^([A-Z_]+): (.*)$/.exec(line);
    const code = match?.[1] ?? "SCHEMA_VALIDATION_FAILED";
    const text = match?.[2] ?? line;
    const location = /^(\/\S*) is invalid/.exec(text)?.[1];
    return {
      severity: "ERROR" as const,
      code: CODES[code] ?? code,
      message: text,
      ...(location ? { location } : {}),
    };
  });
}

const PATH_LIKE = /^\$\$?(\.|\[|$)|^States\.[A-Za-z]+\(/;
/** Fields whose values are payload templates (keys ending in `.$` take paths). */
const TEMPLATES = new Set(["Parameters", "ResultSelector", "ItemSelector"]);

/** AWS's warnings: NO_DOLLAR, NO_PATH, PASS_RESULT_IS_STATIC. */
function warnings(definition: unknown): Diagnostic[] {
  const found: Diagnostic[] = [];
  const visitStates = (states: unknown, at: string) => {
    if (typeof states !== "object" || states === null) return;
    for (const [name, raw] of Object.entries(states as Record<string, unknown>)) {
      if (typeof raw !== "object" || raw === null) continue;
      const state = raw as Record<string, unknown>;
      const where = `${at}/${name}`;
      for (const [field, value] of Object.entries(state)) {
        if (TEMPLATES.has(field)) visitTemplate(value, `${where}/${field}`);
        else if (
          typeof value === "string" &&
          PATH_LIKE.test(value) &&
          !field.endsWith("Path") &&
          !["Resource", "Comment", "Next", "Default", "StartAt", "Type"].includes(field)
        ) {
          found.push({
            severity: "WARNING",
            code: "NO_PATH",
            message: `Field '${field}' value looks like a path, but field name does not end with 'Path'.`,
            location: `${where}/${field}`,
          });
        }
      }
      if (state.Type === "Pass" && state.Result !== undefined && looksDynamic(state.Result)) {
        found.push({
          severity: "WARNING",
          code: "PASS_RESULT_IS_STATIC",
          message:
            "The Result of a Pass state is static: paths in it are not evaluated (use Parameters).",
          location: `${where}/Result`,
        });
      }
      // Nested state machines (Parallel branches, Map processors).
      for (const [index, branch] of ((state.Branches as unknown[]) ?? []).entries())
        visitStates((branch as { States?: unknown })?.States, `${where}/Branches/${index}/States`);
      for (const field of ["Iterator", "ItemProcessor"])
        visitStates((state[field] as { States?: unknown })?.States, `${where}/${field}/States`);
    }
  };
  const visitTemplate = (value: unknown, at: string) => {
    if (typeof value !== "object" || value === null) return;
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (typeof inner === "string" && !key.endsWith(".$") && PATH_LIKE.test(inner))
        found.push({
          severity: "WARNING",
          code: "NO_DOLLAR",
          message: `No .$ on the field '${key}', whose value appears to be a JSONPath or intrinsic function.`,
          location: `${at}/${key}`,
        });
      else visitTemplate(inner, `${at}/${key}`);
    }
  };
  visitStates((definition as { States?: unknown })?.States, "/States");
  return found;
}

function looksDynamic(value: unknown): boolean {
  if (typeof value === "string") return /^\$\$?\./.test(value);
  if (typeof value !== "object" || value === null) return false;
  return Object.entries(value as Record<string, unknown>).some(
    ([key, inner]) => key.endsWith(".$") || looksDynamic(inner),
  );
}
