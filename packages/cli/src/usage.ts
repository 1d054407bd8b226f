/**
 * The command line's grammar: every command, its arguments and options, and the help text made
 * from them. `args.ts` parses against these specs; `gantry --help` and `gantry <command> --help`
 * print them.
 */

export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** The value's placeholder in help ("SHA", "URL"). */
  readonly value?: string;
  readonly description: string;
  /** A string option that may be given more than once; its value is then the list, in order. */
  readonly multiple?: boolean;
}

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
}

export interface CommandSpec {
  /** "deploy", or "artifact publish" for the two-word commands. */
  readonly name: string;
  readonly summary: string;
  readonly positional?: PositionalSpec;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Extra paragraphs for `gantry <command> --help`. */
  readonly notes?: readonly string[];
}

/** Where a command sends its calls; shared by every command. */
export const TARGET_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  endpoint: {
    type: "string",
    value: "URL",
    description: "a local control plane's Step Functions + S3 endpoint (GANTRY_ENDPOINT)",
  },
  "web-endpoint": {
    type: "string",
    value: "URL",
    description: "its web endpoint, for approvals and the outbox (GANTRY_WEB_ENDPOINT)",
  },
  "state-machine-arn": {
    type: "string",
    value: "ARN",
    description:
      "AWS: the stage's state machine (GANTRY_<STAGE>_STATE_MACHINE_ARN, GANTRY_STATE_MACHINE_ARN)",
  },
  "operator-url": {
    type: "string",
    value: "URL",
    description:
      "AWS: the stage's operator endpoint, for approve/reject/unlock; requests are signed with your AWS credentials (GANTRY_OPERATOR_URL)",
  },
  aws: { type: "boolean", description: "AWS, with the default credential chain" },
  region: { type: "string", value: "REGION", description: "AWS region (default: AWS_REGION)" },
  registry: {
    type: "string",
    value: "FILE",
    description: "the service registry module (GANTRY_REGISTRY; default gantry.registry.ts)",
  },
};

const json: OptionSpec = {
  type: "boolean",
  description: "print one JSON document on stdout, and nothing else",
};
const stage = (required: boolean): OptionSpec => ({
  type: "string",
  value: "STAGE",
  description: required
    ? "preprod or prod (required)"
    : "preprod or prod: where to look for an execution given by name",
});
const service: OptionSpec = {
  type: "string",
  value: "NAME",
  description: "the service, as named in gantry.registry.ts",
};
const version: OptionSpec = {
  type: "string",
  value: "SHA",
  description: "the git commit the artifact was built from (7 to 40 hex characters)",
};
const actor: OptionSpec = {
  type: "string",
  value: "NAME",
  description: "who triggered it (default: GITHUB_ACTOR, GITLAB_USER_LOGIN, ... or your user)",
};
const ciRunUrl: OptionSpec = {
  type: "string",
  value: "URL",
  description: "the CI run (default: from GitHub Actions, GitLab CI, Buildkite, Jenkins)",
};
const executionRef: PositionalSpec = {
  name: "execution",
  description: "an execution name (with --stage when both stages have it) or its ARN",
};

/** Every command, in the order `gantry --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "artifact publish",
    summary: "upload a build once to the preprod bucket; print its key and SHA-256",
    options: {
      service,
      version,
      file: { type: "string", value: "ZIP", description: "the Lambda zip to publish (required)" },
      key: {
        type: "string",
        value: "KEY",
        description: "object key (default <service>/<version>/<sha256[0:16]>.zip)",
      },
      bucket: {
        type: "string",
        value: "NAME",
        description: "bucket (default: the registry's stages.preprod.sourceBucket)",
      },
      json,
    },
    notes: [
      "Uploads with its SHA-256 checksum and If-None-Match: *, so an artifact is written once: " +
        "publishing the same bytes again is a no-op, different bytes under the same key are refused.",
      "Prints key=... and sha256=... on stdout (and appends them to $GITHUB_OUTPUT when it is set).",
    ],
  },
  {
    name: "deploy",
    summary: "start a deployment of a published artifact to a stage",
    options: {
      stage: stage(true),
      service,
      version,
      "artifact-key": {
        type: "string",
        value: "KEY",
        description: "the artifact's key in the stage's source bucket",
      },
      sha256: { type: "string", value: "HEX", description: "the artifact's SHA-256 (64 hex)" },
      actor,
      "ci-run-url": ciRunUrl,
      attempt: {
        type: "string",
        value: "N",
        description: "deploy this version and artifact again, as attempt N (default 1)",
      },
      "fix-for": {
        type: "string",
        value: "ALARM",
        multiple: true,
        description:
          "a fix deployed during an incident: this registry alarm of the stage is in ALARM and this deployment fixes it (repeatable)",
      },
      wait: {
        type: "boolean",
        description: "follow the execution to its end; the exit code says how it ended",
      },
      "no-id-token": {
        type: "boolean",
        description:
          "send no OIDC ID token (the trigger is then unverified, which the stage must allow)",
      },
      json,
    },
    notes: [
      "The execution is named after the service, version and artifact, so running the same deploy " +
        "twice (a retried CI job) follows the first execution instead of deploying again. " +
        "To deploy the same version again on purpose, pass --attempt 2 (3, ...).",
      "The trigger is proven by an OIDC ID token for the stage's audience (the registry's " +
        "stages.<stage>.oidc.audience, default gantry-<stage>): in GitHub Actions, the job's " +
        "(it needs `permissions: id-token: write`); against the local control plane, one its " +
        "issuer mints for the service's registered repository. The token's actor is the " +
        "request's: --actor must not name anyone else.",
      "During an incident (a watched alarm already in ALARM), a deployment is refused unless it " +
        "says it is the fix: --fix-for ALARM, once per alarm it fixes. Those alarms then no longer " +
        "stop it; the stage's version analysis judges it instead (the new version must do better " +
        "than the one it replaces on the failing metric), auto-approval never applies, and the " +
        "approval email says it is a fix. A --fix-for alarm that is not in ALARM is refused: " +
        "nothing to fix. See docs/ci.md.",
      "Exit codes: 0 deployed (or started, without --wait); 2 invalid input or usage; " +
        "3 rolled back; 4 approval rejected or timed out; 5 any other failure.",
    ],
  },
  {
    name: "artifact validate",
    summary: "record that preprod tests passed for a version (prod deployments require it)",
    options: {
      service,
      version,
      sha256: { type: "string", value: "HEX", description: "the artifact preprod tested" },
      actor,
      "ci-run-url": ciRunUrl,
      bucket: {
        type: "string",
        value: "NAME",
        description: "bucket (default: the registry's stages.preprod.artifactBucket)",
      },
      json,
    },
    notes: [
      "Writes validations/<service>/<version>.json once (If-None-Match: *). Validating the same " +
        "version and SHA-256 again is a no-op; another SHA-256 for the same version is refused.",
    ],
  },
  {
    name: "status",
    summary: "where an execution stands (the exit code follows deploy's for finished ones)",
    positional: executionRef,
    options: {
      stage: stage(false),
      wait: {
        type: "boolean",
        description: "follow it to its end, as deploy --wait does (same display, same exit codes)",
      },
      json,
    },
  },
  {
    name: "history",
    summary: "an execution's events, oldest first",
    positional: executionRef,
    options: { stage: stage(false), json },
  },
  {
    name: "list",
    summary: "recent executions, newest first",
    options: {
      stage: {
        type: "string",
        value: "STAGE",
        description: "preprod or prod (default: every stage the target knows)",
      },
      status: {
        type: "string",
        value: "STATUS",
        description: "RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED",
      },
      service: { type: "string", value: "NAME", description: "only this service's executions" },
      limit: { type: "string", value: "N", description: "at most N per stage (default 20)" },
      json,
    },
  },
  {
    name: "stop",
    summary: "stop a running execution (the deployment is cleaned up: traffic back, lock released)",
    positional: executionRef,
    options: {
      stage: stage(false),
      cause: { type: "string", value: "TEXT", description: "why, recorded with the execution" },
      json,
    },
  },
  {
    name: "approve",
    summary: "approve a deployment waiting for a decision, as one of its approvers",
    positional: {
      name: "approval",
      description: "the approval id, or the waiting execution's name or ARN",
    },
    options: {
      as: {
        type: "string",
        value: "EMAIL",
        description:
          "which approver to decide as, when your identity maps to several in the registry's operators (GANTRY_OPERATOR)",
      },
      comment: { type: "string", value: "TEXT", description: "kept with the decision" },
      stage: stage(false),
      json,
    },
    notes: [
      "The decision goes through the same approval service as the emailed links and is recorded " +
        "the same way (channel: operator). Who decides is proved, never typed: locally by the " +
        "operator secret in GANTRY_HOME, in AWS by your IAM identity (a SigV4-signed request to " +
        "--operator-url). The registry's `operators` section says which approver that identity is.",
    ],
  },
  {
    name: "reject",
    summary: "reject a deployment waiting for a decision, as one of its approvers",
    positional: {
      name: "approval",
      description: "the approval id, or the waiting execution's name or ARN",
    },
    options: {
      as: {
        type: "string",
        value: "EMAIL",
        description:
          "which approver to decide as, when your identity maps to several in the registry's operators (GANTRY_OPERATOR)",
      },
      comment: { type: "string", value: "TEXT", description: "why (shown in the execution)" },
      stage: stage(false),
      json,
    },
  },
  {
    name: "unlock",
    summary:
      "break a service's deployment lock (a damaged one, or one left by a finished run), audited",
    positional: { name: "service", description: "the service, as named in gantry.registry.ts" },
    options: {
      stage: stage(true),
      reason: {
        type: "string",
        value: "TEXT",
        description: "why (required): kept in the audit record with who and when",
      },
      "force-damaged": {
        type: "boolean",
        description:
          "break a damaged lock (not readable, so its owner is unknown); refused while any execution of the service is RUNNING",
      },
      json,
    },
    notes: [
      "For a deployment that failed LockDamaged (docs/operations.md). The command inspects the " +
        "lock, then asks the operator API to delete exactly what it saw (the lock's ETag): " +
        "refused while the lock's owner is running, and for a damaged lock without " +
        "--force-damaged. Who breaks it is proved, never typed: locally the operator secret in " +
        "GANTRY_HOME, in AWS your IAM identity (a SigV4-signed request to --operator-url), which " +
        "the registry's `operators` section must list. Every break is audited in the state " +
        "bucket under audit/locks/<service>/.",
      "Exit codes: 0 broken, or no lock to break; 2 usage, or not a registered operator; " +
        "5 refused (owner running, damaged without --force-damaged, changed meanwhile) or failed.",
    ],
  },
  {
    name: "provenance",
    summary:
      "where a deployment came from and what it did: commit, repository, SHA-256 at each hop, trigger, approval, outcome",
    options: {
      stage: stage(true),
      service: { ...service, description: "the service (required)" },
      version: {
        ...version,
        description: "this commit's newest deployment (default: the newest deployment)",
      },
      "state-bucket": {
        type: "string",
        value: "NAME",
        description:
          "AWS: the stage's state bucket, if the deploy named one (GANTRY_STATE_BUCKET; default gantry-state-<stage>-<account>-<region>)",
      },
      json,
    },
    notes: [
      "Reads the deployment records the pipeline wrote to the stage's state bucket " +
        "(deployments/<service>/; append-only: a later finish of the same execution is an " +
        "amendment beside the first record, and the newest one is shown). Shows the commit and " +
        "its repository (verified by an OIDC ID token, or an unverified claim), the artifact's " +
        "SHA-256 at each hop (preprod bucket, preprod Lambda, the stage's bucket, the new Lambda " +
        "version's CodeSha256) compared with the requested one, the Lambda versions, the " +
        "trigger's verified claims, the approval, the execution, the outcome and any rollback.",
      "In AWS it needs s3:ListBucket on the state bucket and s3:GetObject on deployments/*.",
      "Exit codes: 0 found; 2 usage; 5 no such record, or the bucket could not be read.",
    ],
  },
  {
    name: "doctor",
    summary:
      "check a stage's AWS account before its first deployment (roles, alarms, SES, buckets...)",
    options: {
      stage: stage(true),
      sender: {
        type: "string",
        value: "EMAIL",
        description: "the approval mail's From address the stage was deployed with (GANTRY_SENDER)",
      },
      "sender-identity": {
        type: "string",
        value: "IDENTITY",
        description: "its SES identity: the address or its domain (GANTRY_SENDER_IDENTITY)",
      },
      "state-bucket": {
        type: "string",
        value: "NAME",
        description:
          "the state bucket, if the deploy named one (GANTRY_STATE_BUCKET; default gantry-state-<stage>-<account>-<region>)",
      },
      "preprod-role-arn": {
        type: "string",
        value: "ARN",
        description:
          "prod: the preprod read role the stage was deployed with (GANTRY_PREPROD_ROLE_ARN)",
      },
      json,
    },
    notes: [
      "Checks AWS, always: the default credential chain, --region or AWS_REGION. Run it with the " +
        "stage account's credentials after `npx sst deploy --stage <stage>`. Settings come from " +
        "the options, else the environment, else .env.<stage> and .env at the project root, as " +
        "`sst deploy` reads them.",
      "One line per check: each function role allows what stacks/policy.ts grants it " +
        "(iam:SimulatePrincipalPolicy); the registry's alarms exist and watch <function>:<alias>; " +
        "the SES sender is verified, and in the SES sandbox every approver too; each target alias " +
        "is on a numbered version with no leftover weights; the artifact and state buckets are " +
        "versioned; the two key secrets have a current value. Read-only: nothing is changed, no " +
        "secret value is read, no mail is sent.",
      "Exit codes: 0 nothing failed (warnings allowed); 2 usage or settings; 5 a check failed " +
        "(or AWS could not be asked).",
    ],
  },
];

/** The spec of a command by name, or undefined. */
export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** The first screen: `gantry --help`. */
export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => synopsisName(c).length));
  const line = (c: CommandSpec) => `  ${synopsisName(c).padEnd(width)}  ${c.summary}`;
  const pick = (names: readonly string[]) =>
    names.map((n) => line(commandSpec(n) as CommandSpec)).join("\n");
  return [
    "gantry: deploy AWS Lambda services through Gantry's control plane",
    "",
    "Usage: gantry <command> [options]",
    "",
    "What CI runs, in order:",
    pick(["artifact publish", "deploy", "artifact validate"]),
    "",
    "Watching and operating:",
    pick(["status", "history", "list", "stop", "approve", "reject", "unlock", "provenance"]),
    "",
    "Setting up a stage in AWS (after `npx sst deploy --stage <stage>`):",
    pick(["doctor"]),
    "",
    "A CI pipeline:",
    '  eval "$(gantry artifact publish --service S --version $SHA --file build.zip)"',
    "  gantry deploy --stage preprod --service S --version $SHA --artifact-key $key --sha256 $sha256 --wait",
    "  ...preprod tests...",
    "  gantry artifact validate --service S --version $SHA --sha256 $sha256",
    "  gantry deploy --stage prod --service S --version $SHA --artifact-key $key --sha256 $sha256 --wait",
    "",
    "Target (any command):",
    optionLines(TARGET_OPTIONS),
    "  With neither --endpoint nor an AWS option, the local control plane `npm start` runs",
    "  (.gantry/endpoints.json, or $GANTRY_HOME/endpoints.json).",
    "",
    "Exit codes: 0 deployed (or done), 2 invalid input or usage, 3 rolled back,",
    "            4 approval rejected or timed out, 5 any other failure.",
    "",
    "`gantry <command> --help` shows a command's options. docs/ci.md has a complete CI setup.",
  ].join("\n");
}

/** `gantry <command> --help`. */
export function commandUsage(spec: CommandSpec): string {
  const positional = spec.positional ? ` <${spec.positional.name}>` : "";
  const parts = [
    `gantry ${spec.name}: ${spec.summary}`,
    "",
    `Usage: gantry ${spec.name}${positional} [options]`,
  ];
  if (spec.positional) {
    parts.push("", `  <${spec.positional.name}>  ${spec.positional.description}`);
  }
  parts.push("", "Options:", optionLines(spec.options), "", "Target:", optionLines(TARGET_OPTIONS));
  for (const note of spec.notes ?? []) parts.push("", wrap(note, 96));
  return parts.join("\n");
}

function synopsisName(spec: CommandSpec): string {
  return spec.positional ? `${spec.name} <${spec.positional.name}>` : spec.name;
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string {
  const flags = Object.entries(options).map(
    ([name, o]) => `--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`,
  );
  const width = Math.max(...flags.map((f) => f.length));
  return Object.values(options)
    .map((o, i) => `  ${(flags[i] ?? "").padEnd(width)}  ${o.description}`)
    .join("\n");
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}
