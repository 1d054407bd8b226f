/**
 * A seeded generator of hostile StartExecution calls for the deployment state machines: scalars
 * and other non-objects, text that is not JSON, wrong types in every field of the deployment
 * request (packages/core/src/request.ts), prototype keys, huge strings, lone surrogates (text
 * that cannot be UTF-8), control and invisible characters, deep nesting, and bad execution
 * names and state machine ARNs. Each says what must happen: the call is refused at the API
 * (with which Step Functions error), or the execution ends in the named error, InvalidInput,
 * before any side effect.
 *
 * The same seed gives the same inputs, so a failure names its seed and index.
 *
 * @example
 * ```ts
 * import { badInputs } from "../support/bad-inputs.ts";
 * for (const bad of badInputs(42, 200)) {
 *   // StartExecution(stateMachineArn: bad.stateMachineArn ?? arn, name: bad.name, input: bad.input)
 *   // then: bad.expected === "refused at API" ? the call failed with bad.apiError : the
 *   // execution FAILED with error bad.expected, and no lock, alias or record changed.
 * }
 * ```
 */

export type BadInputOutcome = "refused at API" | "InvalidInput";

export interface BadInput {
  /** What is wrong, for a test's name (`#<index> <category>: <detail>`). */
  readonly description: string;
  /** StartExecution's `input`: the text as sent (not necessarily JSON). */
  readonly input: string;
  /** An execution name to send instead of a fresh valid one. */
  readonly name?: string;
  /** A state machine ARN to send instead of the real one (`{machine}` stands for it). */
  readonly stateMachineArn?: string;
  readonly expected: BadInputOutcome;
  /** For "refused at API": the Step Functions error (`__type`) expected. */
  readonly apiError?: string;
}

/** The request the mutations start from: valid for the project registry's hello-service. */
export const BASE_REQUEST = {
  service: "hello-service",
  version: "3f2a9c1",
  artifact: { key: "hello-service/3f2a9c1.zip", sha256: "a".repeat(64) },
  trigger: { actor: "octocat" },
} as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Random = () => number;

/** mulberry32: small, fast and good enough to pick cases. */
function random(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: Random, items: readonly T[]): T =>
  items[Math.floor(rand() * items.length)] as T;

function base(): { [key: string]: Json } {
  return JSON.parse(JSON.stringify(BASE_REQUEST)) as { [key: string]: Json };
}

/** A copy of the base request with the value at `path` replaced (or removed when undefined). */
function withField(path: readonly string[], value: Json | undefined): { [key: string]: Json } {
  const request = base();
  let node = request;
  for (const key of path.slice(0, -1)) node = node[key] as { [key: string]: Json };
  const last = path.at(-1) as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return request;
}

const PROTOTYPE_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "isPrototypeOf",
  "__defineGetter__",
];

const FIELDS: readonly (readonly string[])[] = [
  ["service"],
  ["version"],
  ["artifact"],
  ["artifact", "key"],
  ["artifact", "sha256"],
  ["trigger"],
  ["trigger", "actor"],
  ["trigger", "ciRunUrl"],
];

/** The string fields (not the artifact and trigger objects). */
const LEAF_FIELDS = FIELDS.filter(
  (p) => p.length > 1 || (p[0] !== "artifact" && p[0] !== "trigger"),
);

/** The base request's value at `path` (a URL for ciRunUrl, which the base leaves out). */
function valueAt(path: readonly string[]): string {
  if (path.join(".") === "trigger.ciRunUrl") return "https://ci.example.com/run/1";
  let node: Json = base();
  for (const key of path) node = (node as { [key: string]: Json })[key] as Json;
  return String(node);
}

const WRONG_VALUES: readonly Json[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  "",
  " ",
  [],
  ["hello-service"],
  {},
  { nested: { deeper: "x" } },
];

const CONTROL_CHARACTERS = [
  "\u0000",
  "\u0007",
  "\b",
  "\t",
  "\n",
  "\r",
  "\u001b[31m",
  "\u007f",
  "\u0085",
  "\u200b",
  "\u200e",
  "\u202e",
  "\u2028",
  "\ufeff",
  "\ufffd",
];

const LONE_SURROGATES = ["\ud800", "\udfff", "\ud83d", "x\udc00y"];

/** The state machine's own ARN is substituted for `{machine}` by the caller. */
const BAD_ARNS: readonly [string, string][] = [
  ["not-an-arn", "InvalidArn"],
  ["", "InvalidArn"],
  ["arn:aws:states:us-east-1:000000000000:stateMachine:", "InvalidArn"],
  ["arn:aws:states:us-east-1:000000000000:stateMachine:nobody", "StateMachineDoesNotExist"],
  ["arn:aws:states:us-east-1:000000000000:stateMachine:constructor", "StateMachineDoesNotExist"],
  ["arn:aws:states:us-east-1:000000000000:stateMachine:__proto__", "StateMachineDoesNotExist"],
  ["{machine}:extra", "InvalidArn"],
  ["{machine}\u0000", "InvalidArn"],
  ["arn:aws:lambda:us-east-1:000000000000:function:gantry", "InvalidArn"],
  [`arn:aws:states:us-east-1:000000000000:stateMachine:${"x".repeat(2000)}`, "InvalidArn"],
];

const BAD_NAMES = [
  "",
  "a b",
  "tab\there",
  "new\nline",
  "slash/name",
  "star*",
  "question?",
  "brackets[1]",
  "braces{x}",
  'quote"d',
  "hash#",
  "percent%20",
  "dollar$",
  "colon:x",
  "semi;x",
  "x".repeat(81),
  "nul\u0000",
  "del\u007f",
  "c1\u0085",
];

type Generator = (rand: Random) => Omit<BadInput, "description"> & { detail: string };

const json = (value: Json | undefined): string => JSON.stringify(value) ?? "";

/** Every category, each a function of the random source. */
const CATEGORIES: Record<string, Generator> = {
  scalar: (rand) => {
    const value = pick(rand, [
      "null",
      "false",
      "true",
      "0",
      "-0",
      "1e300",
      '""',
      '"hello"',
      "[]",
      "[{}]",
      '["x",1]',
    ]);
    return { detail: value, input: value, expected: "InvalidInput" };
  },
  "not JSON": (rand) => {
    const text = pick(rand, [
      "",
      "{",
      "}",
      "undefined",
      "NaN",
      "Infinity",
      "{'service':'hello-service'}",
      '{"service": "hello-service",}',
      "{service: 1}",
      "\u0000",
      "// comment\n{}",
      '{"a":1}{"b":2}',
      "0x10",
      '"unterminated',
    ]);
    return {
      detail: JSON.stringify(text),
      input: text,
      expected: "refused at API",
      apiError: "InvalidExecutionInput",
    };
  },
  "wrong type": (rand) => {
    const path = pick(rand, FIELDS);
    const value = pick(rand, WRONG_VALUES);
    return {
      detail: `${path.join(".")} = ${json(value)}`,
      input: json(withField(path, value)),
      expected: "InvalidInput",
    };
  },
  "missing field": (rand) => {
    const path = pick(
      rand,
      FIELDS.filter((p) => p.join(".") !== "trigger.ciRunUrl"),
    );
    return {
      detail: path.join("."),
      input: json(withField(path, undefined)),
      expected: "InvalidInput",
    };
  },
  "prototype key as a value": (rand) => {
    const key = pick(rand, PROTOTYPE_KEYS);
    // Not trigger.actor: "constructor" is a valid actor name.
    const field = pick(rand, [["service"], ["artifact", "key"], ["version"]]);
    const value = field.join(".") === "artifact.key" ? `${key}/3f2a9c1.zip` : key;
    const request = withField(field, value);
    if (field[0] === "service")
      (request.artifact as { [key: string]: Json }).key = `${key}/3f2a9c1.zip`;
    return {
      detail: `${field.join(".")} = ${JSON.stringify(value)}`,
      input: json(request),
      expected: "InvalidInput",
    };
  },
  "prototype key as a field": (rand) => {
    const key = pick(rand, PROTOTYPE_KEYS);
    const where = pick(rand, ["", "artifact", "trigger"]);
    // Written as text: an object literal's "__proto__" would set the prototype, not a field.
    const extra = `"${key}":{"service":"billing","polluted":true}`;
    const text = json(base());
    const input =
      where === ""
        ? `{${extra},${text.slice(1)}`
        : text.replace(`"${where}":{`, `"${where}":{${extra},`);
    return { detail: `${where || "(top)"}.${key}`, input, expected: "InvalidInput" };
  },
  "huge string": (rand) => {
    const path = pick(rand, LEAF_FIELDS);
    const size = pick(rand, [4097, 70_000, 200_000]);
    const value = pick(rand, ["a", "é", "😀", "\\"]).repeat(size);
    const input = json(withField(path, value));
    const tooBig = Buffer.byteLength(input) > 256 * 1024;
    return {
      detail: `${path.join(".")} of ${size} characters`,
      input,
      expected: tooBig ? "refused at API" : "InvalidInput",
      ...(tooBig ? { apiError: "InvalidExecutionInput" } : {}),
    };
  },
  "over 256 KiB": (rand) => {
    const pad = "x".repeat(256 * 1024 + Math.floor(rand() * 1000));
    return {
      detail: "a padding field",
      input: json({ ...base(), pad }),
      expected: "refused at API",
      apiError: "InvalidExecutionInput",
    };
  },
  "lone surrogate": (rand) => {
    const path = pick(rand, LEAF_FIELDS);
    const bad = pick(rand, LONE_SURROGATES);
    // JSON.stringify escapes lone surrogates (\ud800): valid JSON text that is not valid UTF-16.
    return {
      detail: `${path.join(".")} with ${json(bad)}`,
      input: json(withField(path, `${valueAt(path)}${bad}`)),
      expected: "InvalidInput",
    };
  },
  "control character": (rand) => {
    const path = pick(rand, LEAF_FIELDS);
    const character = pick(rand, CONTROL_CHARACTERS);
    const original = valueAt(path);
    const at = Math.floor(rand() * (original.length + 1));
    return {
      detail: `${path.join(".")} with U+${(character.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
      input: json(withField(path, original.slice(0, at) + character + original.slice(at))),
      expected: "InvalidInput",
    };
  },
  "deep nesting": (rand) => {
    const depth = pick(rand, [100, 999, 1000, 1001, 5000, 20_000]);
    const kind = pick(rand, ["array", "object"]);
    const nested =
      kind === "array"
        ? `${"[".repeat(depth)}${"]".repeat(depth)}`
        : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    const where = pick(rand, ["top", "field", "service"]);
    const text = json(base());
    const input =
      where === "top"
        ? nested
        : where === "field"
          ? `{"deep":${nested},${text.slice(1)}`
          : text.replace('"service":"hello-service"', `"service":${nested}`);
    // The local control plane refuses input nested deeper than 1,000 levels at the API
    // (MAX_INPUT_DEPTH in packages/local/src/control-plane/execution-input.ts).
    const total = where === "top" ? depth : depth + 1;
    const refused = total > 1000 || Buffer.byteLength(input) > 256 * 1024;
    return {
      detail: `${depth} levels of ${kind} at ${where}`,
      input,
      expected: refused ? "refused at API" : "InvalidInput",
      ...(refused ? { apiError: "InvalidExecutionInput" } : {}),
    };
  },
  "bad value": (rand) => {
    const [path, value] = pick(rand, [
      [["service"], "Hello-Service"],
      [["service"], "nobody-service"],
      [["service"], "-leading-dash"],
      [["service"], "a".repeat(41)],
      [["version"], "3F2A9C1"],
      [["version"], "abc"],
      [["version"], "g".repeat(40)],
      [["artifact", "key"], "../prod/evil.zip"],
      [["artifact", "key"], "/hello-service/x.zip"],
      [["artifact", "key"], "hello-service/x%2e%2e/y.zip"],
      [["artifact", "key"], "hello-service//x.zip"],
      [["artifact", "key"], "hello-service/x.tar"],
      [["artifact", "key"], "billing/x.zip"],
      [["artifact", "sha256"], "A".repeat(64)],
      [["artifact", "sha256"], "a".repeat(63)],
      [["trigger", "actor"], "octo cat"],
      [["trigger", "actor"], "<script>"],
      [["trigger", "ciRunUrl"], "javascript:alert(1)"],
      [["trigger", "ciRunUrl"], "http://ci.example.com/run/1"],
      [["trigger", "ciRunUrl"], "https://user:pass@ci.example.com/"],
      [["trigger", "ciRunUrl"], "not a url"],
    ] as const);
    return {
      detail: `${path.join(".")} = ${JSON.stringify(value)}`,
      input: json(withField(path, value)),
      expected: "InvalidInput",
    };
  },
  "unknown field": (rand) => {
    const field = pick(rand, ["targetFunction", "plan", "execution", "approval", "stage", "lock"]);
    return {
      detail: field,
      input: json({ ...base(), [field]: { service: "billing", functionName: "someone-elses" } }),
      expected: "InvalidInput",
    };
  },
  "bad execution name": (rand) => {
    const name = pick(rand, BAD_NAMES);
    return {
      detail: JSON.stringify(name),
      input: json(base()),
      name,
      expected: "refused at API",
      apiError: "InvalidName",
    };
  },
  "bad state machine ARN": (rand) => {
    const [arn, error] = pick(rand, BAD_ARNS);
    return {
      detail: JSON.stringify(arn.length > 80 ? `${arn.slice(0, 77)}...` : arn),
      input: json(base()),
      stateMachineArn: arn,
      expected: "refused at API",
      apiError: error,
    };
  },
};

/**
 * `count` hostile StartExecution calls from `seed`: the categories in turn (so any 15 in a row
 * cover them all), the case within each category chosen by the seed.
 */
export function badInputs(seed: number, count: number): BadInput[] {
  const rand = random(seed);
  const names = Object.keys(CATEGORIES);
  const out: BadInput[] = [];
  for (let index = 0; index < count; index++) {
    const category = names[index % names.length] as string;
    const { detail, ...rest } = (CATEGORIES[category] as Generator)(rand);
    out.push({ description: `#${index} ${category}: ${detail}`, ...rest });
  }
  return out;
}
