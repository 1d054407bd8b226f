import { describe, expect, it } from "vitest";
import {
  artifactPrefixOf,
  defineRegistry,
  oidcSettingsOf,
  type Registry,
  type StageTarget,
} from "./registry.ts";

const prodTarget: StageTarget = {
  functionName: "hello-prod",
  alias: "live",
  alarms: ["hello-prod-errors"],
  rollout: { steps: [10, 25, 50], stepWaitSeconds: 60, pollSeconds: 10, bakeSeconds: 600 },
  verifyPreprod: true,
  approval: {
    approvers: ["alice@example.com"],
    autoApprove: [{ actor: "dependabot[bot]" }],
    timeoutSeconds: 3600,
  },
};
const preprodTarget: StageTarget = {
  functionName: "hello-preprod",
  alias: "live",
  alarms: [],
  rollout: { steps: [50], stepWaitSeconds: 60, pollSeconds: 20, bakeSeconds: 120 },
  verifyPreprod: false,
};

function registry(
  prod: Partial<StageTarget> | Record<string, unknown> = {},
  preprod: Partial<StageTarget> = {},
  extra: Record<string, unknown> = {},
): Registry {
  return {
    stages: {
      preprod: { sourceBucket: "acme-ci", artifactBucket: "acme-preprod" },
      prod: { sourceBucket: "acme-preprod", artifactBucket: "acme-prod" },
    },
    services: {
      "hello-service": {
        repository: "acme/hello-service",
        canary: { checks: [{ name: "GET /", event: { path: "/" }, expect: { statusCode: 200 } }] },
        stages: {
          preprod: { ...preprodTarget, ...preprod },
          prod: { ...prodTarget, ...prod } as StageTarget,
        },
        ...extra,
      },
    },
  };
}

function withRollout(rollout: Partial<StageTarget["rollout"]>): Registry {
  return registry({ rollout: { ...prodTarget.rollout, ...rollout } });
}

describe("defineRegistry", () => {
  it("returns a valid registry unchanged", () => {
    const valid = registry();
    expect(defineRegistry(valid)).toBe(valid);
  });

  it("accepts a stage with no traffic steps (straight to 100%)", () => {
    expect(() => defineRegistry(withRollout({ steps: [] }))).not.toThrow();
  });

  it("accepts steps at the bounds 1 and 99", () => {
    expect(() => defineRegistry(withRollout({ steps: [1, 99] }))).not.toThrow();
  });

  it.each([[[25, 10]], [[10, 10]], [[10, 50, 25]]])(
    "refuses traffic steps %j that do not increase",
    (steps) => {
      expect(() => defineRegistry(withRollout({ steps }))).toThrow(
        /services\.hello-service\.stages\.prod\.rollout\.steps: traffic steps must increase/,
      );
    },
  );

  it.each([[[0, 10]], [[10, 100]], [[-5]], [[10.5]]])("refuses the traffic steps %j", (steps) => {
    expect(() => defineRegistry(withRollout({ steps }))).toThrow(
      /^invalid service registry:\n {2}services\.hello-service\.stages\.prod\.rollout\.steps\.\d/,
    );
  });

  it("refuses more than 10 traffic steps", () => {
    const steps = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    expect(() => defineRegistry(withRollout({ steps }))).toThrow(/rollout\.steps/);
  });

  it.each([
    ["stepWaitSeconds", 0],
    ["pollSeconds", -1],
    ["bakeSeconds", 1.5],
    ["bakeSeconds", 7 * 24 * 3600 + 1],
  ])("refuses %s = %d", (field, value) => {
    expect(() => defineRegistry(withRollout({ [field]: value }))).toThrow(
      new RegExp(`rollout\\.${field}`),
    );
  });

  it("refuses an approval without approvers", () => {
    const approval = { ...prodTarget.approval, approvers: [] } as StageTarget["approval"];
    expect(() => defineRegistry(registry({ approval }))).toThrow(/approval\.approvers/);
  });

  it("refuses an approver that is not an email address", () => {
    const approval = { ...prodTarget.approval, approvers: ["alice"] } as StageTarget["approval"];
    expect(() => defineRegistry(registry({ approval }))).toThrow(
      /approval\.approvers\.0: must be an email address/,
    );
  });

  it("refuses an approval timeout under 60 seconds", () => {
    const approval = { ...prodTarget.approval, timeoutSeconds: 59 } as StageTarget["approval"];
    expect(() => defineRegistry(registry({ approval }))).toThrow(
      "invalid service registry: hello-service.prod: approval timeout under 60 s",
    );
  });

  it("accepts an approval timeout of exactly 60 seconds", () => {
    const approval = { ...prodTarget.approval, timeoutSeconds: 60 } as StageTarget["approval"];
    expect(() => defineRegistry(registry({ approval }))).not.toThrow();
  });

  it("refuses a preprod stage that verifies preprod", () => {
    expect(() => defineRegistry(registry({}, { verifyPreprod: true }))).toThrow(
      "invalid service registry: hello-service.preprod cannot verify itself",
    );
  });

  it.each(["Acme-Prod", "ab", "acme_prod", "-acme", "acme-", `a${"b".repeat(63)}`])(
    "refuses the bucket name %j",
    (bucket) => {
      const bad = registry();
      const withBucket: Registry = {
        ...bad,
        stages: { ...bad.stages, prod: { ...bad.stages.prod, artifactBucket: bucket } },
      };
      expect(() => defineRegistry(withBucket)).toThrow(
        /stages\.prod\.artifactBucket: must be an S3 bucket name/,
      );
    },
  );

  it("refuses an unknown field in a stage target, naming it", () => {
    expect(() => defineRegistry(registry({ timeoutSeconds: 5 }))).toThrow(
      /services\.hello-service\.stages\.prod: unknown field "timeoutSeconds"/,
    );
  });

  it("refuses an unknown field in a service, naming it", () => {
    expect(() => defineRegistry(registry({}, {}, { owner: "team-a" }))).toThrow(
      /services\.hello-service: unknown field "owner"/,
    );
  });

  it("refuses an unknown stage", () => {
    const bad = registry();
    const withStage = {
      ...bad,
      stages: { ...bad.stages, staging: bad.stages.prod },
    } as unknown as Registry;
    expect(() => defineRegistry(withStage)).toThrow(/stages: unknown field "staging"/);
  });

  it("refuses a service name that is not a service name", () => {
    const bad = registry();
    const service = bad.services["hello-service"];
    const withName = { ...bad, services: { Hello_Service: service } } as unknown as Registry;
    expect(() => defineRegistry(withName)).toThrow(
      /services\.Hello_Service: must be a service name/,
    );
  });

  it("refuses a repository URL that is not https", () => {
    expect(() =>
      defineRegistry(registry({}, {}, { repositoryUrl: "http://github.com/acme/hello" })),
    ).toThrow(/services\.hello-service\.repositoryUrl/);
  });

  it("refuses an artifact prefix that does not end in /", () => {
    expect(() => defineRegistry(registry({}, {}, { artifactPrefix: "builds" }))).toThrow(
      /artifactPrefix: must be a key prefix ending in \//,
    );
  });

  it("refuses a canary without checks", () => {
    expect(() => defineRegistry(registry({}, {}, { canary: { checks: [] } }))).toThrow(
      /services\.hello-service\.canary\.checks/,
    );
  });
});

describe("verified triggers in the registry", () => {
  const withApproval = (approval: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    registry({ approval: { ...prodTarget.approval, ...approval } }, {}, extra);
  const withOidc = (oidc: unknown): Registry => {
    const base = registry();
    return { ...base, stages: { ...base.stages, prod: { ...base.stages.prod, oidc } } } as Registry;
  };

  it("accepts a repository, its id, stage OIDC settings and allowUnverifiedTrigger", () => {
    const valid = withOidc({ issuer: "https://issuer.example.com/oidc", audience: "acme-prod" });
    const full = {
      ...valid,
      services: {
        "hello-service": {
          ...valid.services["hello-service"],
          repositoryId: "123456789",
          stages: {
            ...valid.services["hello-service"]?.stages,
            preprod: { ...preprodTarget, allowUnverifiedTrigger: true },
          },
        },
      },
    } as Registry;
    expect(defineRegistry(full)).toBe(full);
  });

  it.each(["http://127.0.0.1:7777/oidc", "http://localhost:7777/oidc", "https://a.example.com"])(
    "accepts the issuer %s",
    (issuer) => {
      expect(() => defineRegistry(withOidc({ issuer }))).not.toThrow();
    },
  );

  it.each([
    "http://issuer.example.com",
    "ftp://issuer.example.com",
    "https://user:pw@issuer.example.com",
    "https://issuer.example.com/?a=1",
    "https://issuer.example.com/#x",
    "not a url",
    `https://example.com/${"x".repeat(500)}`,
  ])("refuses the issuer %s", (issuer) => {
    expect(() => defineRegistry(withOidc({ issuer }))).toThrow(
      /stages\.prod\.oidc\.issuer: must be (an https URL \(http only on 127\.0\.0\.1 or localhost\), without credentials, query or fragment|at most 500 characters)/,
    );
  });

  it("refuses an empty or overlong audience, and unknown OIDC fields", () => {
    expect(() => defineRegistry(withOidc({ audience: "" }))).toThrow(
      /stages\.prod\.oidc\.audience: must be 1 to 200 characters/,
    );
    expect(() => defineRegistry(withOidc({ audience: "a".repeat(201) }))).toThrow(
      /must be 1 to 200 characters/,
    );
    expect(() => defineRegistry(withOidc({ jwksUri: "https://x" }))).toThrow(
      /stages\.prod\.oidc: unknown field "jwksUri"/,
    );
  });

  it.each(["acme", "acme/hello/x", "-acme/hello", "acme/hello service", "https://github.com/a/b"])(
    "refuses the repository %j",
    (repository) => {
      expect(() => defineRegistry(registry({}, {}, { repository }))).toThrow(
        /services\.hello-service\.repository: must be a GitHub repository: owner\/name/,
      );
    },
  );

  it.each(["", "0123", "12a", 123])("refuses the repository id %j", (repositoryId) => {
    expect(() => defineRegistry(registry({}, {}, { repositoryId }))).toThrow(
      /services\.hello-service\.repositoryId: must be/,
    );
  });

  it("refuses allowUnverifiedTrigger that is not a boolean", () => {
    expect(() => defineRegistry(registry({ allowUnverifiedTrigger: "yes" }))).toThrow(
      /stages\.prod\.allowUnverifiedTrigger: must be boolean/,
    );
  });

  it("accepts rules on each field, a ref prefix, and up to 20 rules", () => {
    const rules = [
      { actor: "dependabot[bot]", ref: "refs/heads/main" },
      { ref: "refs/heads/release/*" },
      { workflow: "acme/hello-service/.github/workflows/release.yml" },
      { eventName: "workflow_dispatch" },
      { environment: "prod" },
      ...Array.from({ length: 15 }, (_, i) => ({ actor: `bot-${i}` })),
    ];
    expect(() => defineRegistry(withApproval({ autoApprove: rules }))).not.toThrow();
    expect(() => defineRegistry(withApproval({ autoApprove: [] }))).not.toThrow();
    expect(() =>
      defineRegistry(withApproval({ autoApprove: [...rules, { actor: "one-more" }] })),
    ).toThrow(/approval\.autoApprove: must have at most 20 entries/);
  });

  it.each([
    [{}, /autoApprove\.0: a rule needs at least one field/],
    [{ actor: undefined }, /autoApprove\.0: a rule needs at least one field/],
    [{ repository: "acme/x" }, /autoApprove\.0: unknown field "repository"/],
    [{ actor: "a b" }, /autoApprove\.0\.actor: must be 1 to 100 characters/],
    [{ ref: "*" }, /autoApprove\.0\.ref: must be a git ref/],
    [{ ref: "refs/*/main" }, /autoApprove\.0\.ref: must be a git ref/],
    [{ ref: "refs/heads/**" }, /autoApprove\.0\.ref: must be a git ref/],
    [{ ref: "refs/heads/ main" }, /autoApprove\.0\.ref: must be a git ref/],
    [
      { workflow: "acme/x/.github/workflows/ci.yml@refs/heads/main" },
      /workflow: must be a workflow path without @ref/,
    ],
    [{ eventName: "Push" }, /autoApprove\.0\.eventName: must be a GitHub event name/],
    [{ environment: "" }, /autoApprove\.0\.environment: must be 1 to 255 characters/],
  ])("refuses the rule %j", (rule, message) => {
    expect(() => defineRegistry(withApproval({ autoApprove: [rule] }))).toThrow(message);
  });

  it("refuses the old autoApproveActors, saying what replaced it", () => {
    expect(() => defineRegistry(withApproval({ autoApproveActors: ["dependabot[bot]"] }))).toThrow(
      'unknown field "autoApproveActors": it was replaced by autoApprove rules, which match verified claims only',
    );
  });

  it("refuses auto-approve rules on a service without a repository, and accepts none there", () => {
    const bare = withApproval({ autoApprove: [{ actor: "dependabot[bot]" }] });
    const { repository: _dropped, ...service } = bare.services["hello-service"] ?? {};
    const noRepository = { ...bare, services: { "hello-service": service } } as Registry;
    expect(() => defineRegistry(noRepository)).toThrow(
      "invalid service registry: hello-service.prod: autoApprove rules need the service's repository (owner/name), which every verified token is checked against",
    );
    const noRules = withApproval({ autoApprove: [] });
    const { repository: _also, ...plain } = noRules.services["hello-service"] ?? {};
    expect(() =>
      defineRegistry({ ...noRules, services: { "hello-service": plain } } as Registry),
    ).not.toThrow();
  });
});

describe("oidcSettingsOf", () => {
  it("defaults to GitHub Actions' issuer and gantry-<stage>", () => {
    const plain = defineRegistry(registry());
    expect(oidcSettingsOf(plain, "prod")).toEqual({
      issuer: "https://token.actions.githubusercontent.com",
      audience: "gantry-prod",
    });
    expect(oidcSettingsOf(plain, "preprod").audience).toBe("gantry-preprod");
  });

  it("uses the stage's own issuer and audience, each on its own", () => {
    const base = registry();
    const custom = (oidc: object) =>
      ({ ...base, stages: { ...base.stages, prod: { ...base.stages.prod, oidc } } }) as Registry;
    expect(oidcSettingsOf(custom({ issuer: "http://127.0.0.1:1/oidc" }), "prod")).toEqual({
      issuer: "http://127.0.0.1:1/oidc",
      audience: "gantry-prod",
    });
    expect(oidcSettingsOf(custom({ audience: "acme" }), "prod")).toEqual({
      issuer: "https://token.actions.githubusercontent.com",
      audience: "acme",
    });
  });
});

describe("the operators of a registry", () => {
  const withOperators = (operators: unknown) => ({ ...registry(), operators }) as Registry;

  it("maps approver emails to IAM principals and the local operator", () => {
    const valid = withOperators({
      "alice@example.com": {
        iam: [
          "arn:aws:iam::111122223333:user/alice",
          "arn:aws:sts::111122223333:assumed-role/Approvers/alice@example.com",
          "arn:aws-us-gov:iam::111122223333:role/release-managers",
        ],
        local: true,
      },
      "bob@example.com": { local: false },
    });
    expect(defineRegistry(valid)).toBe(valid);
  });

  it.each([
    ["a wildcard", "arn:aws:iam::111122223333:user/*"],
    ["an account root", "arn:aws:iam::111122223333:root"],
    ["a role without its session", "arn:aws:sts::111122223333:assumed-role/Approvers"],
    ["an ARN of another service", "arn:aws:s3:::bucket"],
    ["a bare name", "alice"],
  ])("refuses %s as an operator identity", (_name, principal) => {
    expect(() =>
      defineRegistry(withOperators({ "alice@example.com": { iam: [principal] } })),
    ).toThrow(
      /operators\.alice@example\.com\.iam\.0: must be an IAM user, role or assumed-role session ARN/,
    );
  });

  it("refuses an operator key that is not an email, and unknown fields", () => {
    expect(() => defineRegistry(withOperators({ alice: { local: true } }))).toThrow(/operators/);
    expect(() =>
      defineRegistry(withOperators({ "alice@example.com": { local: true, admin: true } })),
    ).toThrow(/unknown field "admin"/);
  });
});

describe("the canary spec's size", () => {
  it("refuses a canary spec over 16 KiB of JSON: it travels in every execution's state", () => {
    const big = registry(
      {},
      {},
      {
        canary: {
          checks: [
            { name: "big", event: { body: "x".repeat(17_000) }, expect: { statusCode: 200 } },
          ],
        },
      },
    );
    expect(() => defineRegistry(big)).toThrow(
      /hello-service\.canary is \d+ bytes of JSON, at most 16384/,
    );
  });
});

describe("artifactPrefixOf", () => {
  it("defaults to the service name and a slash", () => {
    expect(artifactPrefixOf(defineRegistry(registry()), "hello-service")).toBe("hello-service/");
  });

  it("uses the service's own prefix when it has one", () => {
    const custom = defineRegistry(registry({}, {}, { artifactPrefix: "builds/hello/" }));
    expect(artifactPrefixOf(custom, "hello-service")).toBe("builds/hello/");
  });

  it("falls back to the default for an unregistered service", () => {
    expect(artifactPrefixOf(defineRegistry(registry()), "other")).toBe("other/");
  });
});
