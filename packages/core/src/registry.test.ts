import { describe, expect, it } from "vitest";
import { artifactPrefixOf, defineRegistry, type Registry, type StageTarget } from "./registry.ts";

const prodTarget: StageTarget = {
  functionName: "hello-prod",
  alias: "live",
  alarms: ["hello-prod-errors"],
  rollout: { steps: [10, 25, 50], stepWaitSeconds: 60, pollSeconds: 10, bakeSeconds: 600 },
  verifyPreprod: true,
  approval: {
    approvers: ["alice@example.com"],
    autoApproveActors: ["dependabot[bot]"],
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
