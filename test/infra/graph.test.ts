/**
 * The resource graph under Pulumi mocks: the stack modules that need no SST CLI (everything
 * but the functions, whose ARNs are given) build the real AWS resources, and their inputs are
 * checked here.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { substituteFunctionArns, WORKFLOW_FUNCTIONS, type WorkflowFunctionKey } from "@gantry/core";
import { alarmSpecs } from "@gantry/stacks/alarm-specs";
import { artifactBucketSettings, stateBucketSettings } from "@gantry/stacks/bucket-settings";
import {
  holdSchedulerStatements,
  holdSchedulerTrustPolicy,
  policyDocument,
  preprodReadStatements,
  stateMachineStatements,
} from "@gantry/stacks/policy";
import { beforeAll, describe, expect, it } from "vitest";
import registry from "../../gantry.registry.ts";
import {
  ENV,
  installMocks,
  ofType,
  one,
  outputValue,
  type Registered,
  ROOT,
  settled,
} from "./support/pulumi-mocks.ts";

const ASL = readFileSync(path.join(ROOT, "state-machines/workflow.asl.json"), "utf8");
const lam = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const FUNCTION_ARNS = Object.fromEntries(
  Object.entries(WORKFLOW_FUNCTIONS).map(([key, file]) => [key, lam(`gantry-prod-${file}`)]),
) as Record<WorkflowFunctionKey, string>;
const CANARY_ARN = lam("gantry-prod-scheduled-canary");
const RECONCILE_ARN = lam("gantry-prod-reconcile");
const HOLD_EVENTS_ARN = lam("gantry-prod-hold-events");
const MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:gantry-prod";

let registered: Registered[];

beforeAll(async () => {
  registered = await installMocks("prod");
  const { createStorage } = await import("@gantry/stacks/storage");
  const { createWorkflow } = await import("@gantry/stacks/workflow");
  const { createCanarySchedule } = await import("@gantry/stacks/canary");
  const { createNotifications } = await import("@gantry/stacks/alarms");
  const { createHolds } = await import("@gantry/stacks/holds");
  const storage = createStorage({ stage: "prod", env: ENV, registry });
  const workflow = createWorkflow({
    stage: "prod",
    env: ENV,
    aslText: ASL,
    functionArns: FUNCTION_ARNS,
  });
  const cron = createCanarySchedule(CANARY_ARN);
  const notifications = createNotifications({
    stage: "prod",
    env: ENV,
    registry,
    reconcileFunctionArn: RECONCILE_ARN,
    notifyEmails: ["ops@acme.dev"],
  });
  const holds = createHolds({
    stage: "prod",
    env: ENV,
    registry,
    holdEventsFunctionArn: HOLD_EVENTS_ARN,
  });
  await Promise.all([
    outputValue(holds.group.arn),
    outputValue(holds.schedulerRole.arn),
    ...holds.rules.map((r) => outputValue(r.arn)),
    outputValue(storage.state.policy.urn),
    outputValue(storage.artifacts.lifecycle.urn),
    outputValue(workflow.machine.arn),
    outputValue(cron.nodes.schedule.arn),
    outputValue(cron.nodes.role.arn),
    outputValue(notifications.topic.arn),
    ...notifications.alarms.map((a) => outputValue(a.urn)),
  ]);
  await settled();
});

describe("the state machine", () => {
  it("is the ASL file with the function ARNs substituted, nothing else", () => {
    const machine = one(registered, "aws:sfn/stateMachine:StateMachine", "Workflow");
    const definition = machine.inputs.definition as string;
    expect(definition).toBe(substituteFunctionArns(ASL, FUNCTION_ARNS));
    expect(definition).not.toContain("${");
    const resources = Object.values(
      (
        JSON.parse(definition) as {
          States: Record<
            string,
            { Type: string; Resource?: string; Parameters?: { FunctionName?: string } }
          >;
        }
      ).States,
    )
      .filter((s) => s.Type === "Task")
      .map((s) => s.Parameters?.FunctionName ?? s.Resource);
    expect(new Set(resources)).toEqual(new Set(Object.values(FUNCTION_ARNS)));
  });

  it("is a Standard state machine named gantry-prod, logging every event and traced", () => {
    const machine = one(registered, "aws:sfn/stateMachine:StateMachine", "Workflow");
    const logGroup = one(registered, "aws:cloudwatch/logGroup:LogGroup", "WorkflowLogs");
    expect(machine.inputs).toMatchObject({
      name: "gantry-prod",
      type: "STANDARD",
      roleArn: "arn:aws:iam::123456789012:role/gantry-prod-state-machine",
      loggingConfiguration: {
        level: "ALL",
        // The approval Task's parameters hold its task token: never in logs.
        includeExecutionData: false,
        logDestination: `arn:aws:logs:us-east-1:123456789012:log-group:${logGroup.inputs.name}:*`,
      },
      tracingConfiguration: { enabled: true },
    });
    expect(logGroup.inputs).toMatchObject({
      name: "/aws/vendedlogs/states/gantry-prod",
      retentionInDays: 90,
    });
  });

  it("has a role that may invoke only its functions", () => {
    const role = one(registered, "aws:iam/role:Role", "WorkflowRole");
    const inline = role.inputs.inlinePolicies as { name: string; policy: string }[];
    expect(inline).toHaveLength(1);
    expect(JSON.parse(inline[0]?.policy ?? "{}")).toEqual(
      policyDocument(stateMachineStatements(Object.values(FUNCTION_ARNS))),
    );
    const trust = JSON.parse(role.inputs.assumeRolePolicy as string);
    expect(trust.Statement[0].Condition.ArnEquals["aws:SourceArn"]).toBe(MACHINE_ARN);
  });
});

describe("the hourly canary", () => {
  it("is an hourly EventBridge Scheduler schedule (SST CronV2) invoking the scheduled-canary function", () => {
    const schedule = one(registered, "aws:scheduler/schedule:Schedule", "HourlyCanarySchedule");
    expect(schedule.inputs).toMatchObject({
      scheduleExpression: "rate(1 hour)",
      flexibleTimeWindow: { mode: "OFF" },
      state: "ENABLED",
      target: { arn: CANARY_ARN, retryPolicy: { maximumRetryAttempts: 0 } },
    });
    // The deprecated sst.aws.Cron made an EventBridge rule, a target and a Lambda permission.
    expect(
      ofType(registered, "aws:cloudwatch/eventRule:EventRule").map((r) => r.name),
    ).not.toContain("HourlyCanaryRule");
    expect(ofType(registered, "aws:lambda/permission:Permission").map((r) => r.name)).not.toContain(
      "HourlyCanaryPermission",
    );
  });

  it("invokes the function through a role that EventBridge Scheduler assumes and that may invoke only it", () => {
    const role = one(registered, "aws:iam/role:Role", "HourlyCanaryRole");
    const schedule = one(registered, "aws:scheduler/schedule:Schedule", "HourlyCanarySchedule");
    expect((schedule.inputs.target as { roleArn: string }).roleArn).toBe(
      `arn:aws:iam::123456789012:role/${role.inputs.name}`,
    );
    const trust = role.inputs.assumeRolePolicy;
    expect((typeof trust === "string" ? JSON.parse(trust) : trust).Statement).toEqual([
      expect.objectContaining({
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
      }),
    ]);
    const inline = role.inputs.inlinePolicies as { policy: string }[];
    expect(inline.map((p) => JSON.parse(p.policy).Statement)).toEqual([
      [
        expect.objectContaining({
          Action: "lambda:InvokeFunction",
          Effect: "Allow",
          Resource: CANARY_ARN,
        }),
      ],
    ]);
  });
});

describe("alarms and notifications", () => {
  it("create every alarm spec, each notifying the topic", () => {
    const topicArn = "arn:aws:sns:us-east-1:123456789012:gantry-prod-notifications";
    const alarms = ofType(registered, "aws:cloudwatch/metricAlarm:MetricAlarm");
    const specs = alarmSpecs(registry, "prod", MACHINE_ARN);
    expect(alarms.map((a) => a.inputs.name).sort()).toEqual(specs.map((s) => s.name).sort());
    expect(alarms.map((a) => a.inputs.name).sort()).toEqual([
      "gantry-prod-executions-failed",
      "hello-service-canary",
      "hello-service-prod-rollback-failed",
    ]);
    for (const spec of specs) {
      const alarm = alarms.find((a) => a.inputs.name === spec.name);
      expect(alarm?.inputs).toMatchObject({
        namespace: spec.namespace,
        metricName: spec.metricName,
        dimensions: spec.dimensions,
        statistic: "Sum",
        period: spec.periodSeconds,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        alarmActions: [topicArn],
      });
    }
  });

  it("announce every execution outcome on the topic", () => {
    const rule = one(registered, "aws:cloudwatch/eventRule:EventRule", "DeploymentOutcomes");
    expect(JSON.parse(rule.inputs.eventPattern as string)).toEqual({
      source: ["aws.states"],
      "detail-type": ["Step Functions Execution Status Change"],
      detail: {
        stateMachineArn: [MACHINE_ARN],
        status: ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
      },
    });
    const target = one(
      registered,
      "aws:cloudwatch/eventTarget:EventTarget",
      "DeploymentOutcomesToTopic",
    );
    expect(target.inputs).toMatchObject({
      rule: "gantry-prod-deployment-outcomes",
      arn: "arn:aws:sns:us-east-1:123456789012:gantry-prod-notifications",
    });
    const subscription = one(
      registered,
      "aws:sns/topicSubscription:TopicSubscription",
      "NotificationsEmail1",
    );
    expect(subscription.inputs).toMatchObject({ protocol: "email", endpoint: "ops@acme.dev" });
  });

  it("let only the outcome rule and Gantry's alarms publish to the topic", () => {
    const policy = JSON.parse(
      one(registered, "aws:sns/topicPolicy:TopicPolicy", "NotificationsPolicy").inputs
        .policy as string,
    );
    expect(
      policy.Statement.map((s: { Principal: unknown; Condition: unknown }) => [
        s.Principal,
        s.Condition,
      ]),
    ).toEqual([
      [
        { Service: "events.amazonaws.com" },
        {
          ArnEquals: {
            "aws:SourceArn":
              "arn:aws:events:us-east-1:123456789012:rule/gantry-prod-deployment-outcomes",
          },
        },
      ],
      [
        { Service: "cloudwatch.amazonaws.com" },
        {
          ArnEquals: {
            "aws:SourceArn": [
              "arn:aws:cloudwatch:us-east-1:123456789012:alarm:hello-service-canary",
              "arn:aws:cloudwatch:us-east-1:123456789012:alarm:hello-service-prod-rollback-failed",
              "arn:aws:cloudwatch:us-east-1:123456789012:alarm:gantry-prod-executions-failed",
            ],
          },
        },
      ],
    ]);
  });

  it("send aborted, timed-out, failed and succeeded executions to reconcile, which EventBridge may invoke", () => {
    const rule = one(registered, "aws:cloudwatch/eventRule:EventRule", "AbandonedExecutions");
    expect(JSON.parse(rule.inputs.eventPattern as string).detail).toEqual({
      stateMachineArn: [MACHINE_ARN],
      status: ["ABORTED", "TIMED_OUT", "FAILED", "SUCCEEDED"],
    });
    expect(
      one(registered, "aws:cloudwatch/eventTarget:EventTarget", "AbandonedExecutionsToReconcile")
        .inputs,
    ).toMatchObject({
      rule: "gantry-prod-abandoned-executions",
      arn: RECONCILE_ARN,
    });
    expect(
      one(registered, "aws:lambda/permission:Permission", "ReconcileFromEventBridge").inputs,
    ).toMatchObject({
      action: "lambda:InvokeFunction",
      function: RECONCILE_ARN,
      principal: "events.amazonaws.com",
      sourceArn: "arn:aws:events:us-east-1:123456789012:rule/gantry-prod-abandoned-executions",
    });
  });
});

describe("holds", () => {
  it("send the registry's alarms entering ALARM to hold-events, which only that rule may invoke through EventBridge", () => {
    const rule = one(registered, "aws:cloudwatch/eventRule:EventRule", "HoldAlarms");
    expect(rule.inputs.name).toBe("gantry-prod-hold-alarms");
    expect(JSON.parse(rule.inputs.eventPattern as string)).toEqual({
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: { alarmName: ["hello-service-prod-errors"], state: { value: ["ALARM"] } },
    });
    expect(
      one(registered, "aws:cloudwatch/eventTarget:EventTarget", "HoldAlarmsToHoldEvents").inputs,
    ).toMatchObject({ rule: "gantry-prod-hold-alarms", arn: HOLD_EVENTS_ARN });
    expect(
      one(registered, "aws:lambda/permission:Permission", "HoldAlarmsInvokeHoldEvents").inputs,
    ).toMatchObject({
      action: "lambda:InvokeFunction",
      function: HOLD_EVENTS_ARN,
      principal: "events.amazonaws.com",
      sourceArn: "arn:aws:events:us-east-1:123456789012:rule/gantry-prod-hold-alarms",
    });
  });

  it("have a schedule group of the stage's, and a role Scheduler assumes that may invoke hold-events only", () => {
    expect(
      one(registered, "aws:scheduler/scheduleGroup:ScheduleGroup", "HoldSchedules").inputs.name,
    ).toBe("gantry-prod-holds");
    const role = one(registered, "aws:iam/role:Role", "HoldSchedulerRole").inputs;
    expect(role.name).toBe("gantry-prod-hold-scheduler");
    expect(JSON.parse(role.assumeRolePolicy as string)).toEqual(holdSchedulerTrustPolicy(ENV));
    const inline = role.inlinePolicies as { policy: string }[];
    expect(JSON.parse(inline[0]?.policy ?? "{}")).toEqual(
      policyDocument(holdSchedulerStatements(HOLD_EVENTS_ARN)),
    );
  });
});

describe("the buckets", () => {
  for (const [id, settings] of [
    [
      "ArtifactBucket",
      artifactBucketSettings({
        stage: "prod",
        registry,
        partition: "aws",
        accountId: ENV.accountId,
      }),
    ],
    [
      "StateBucket",
      stateBucketSettings({
        stage: "prod",
        partition: "aws",
        accountId: ENV.accountId,
        name: "gantry-state-prod-123456789012-us-east-1",
      }),
    ],
  ] as const) {
    it(`${id} is created locked down, as its settings say`, () => {
      expect(one(registered, "aws:s3/bucket:Bucket", id).inputs).toMatchObject({
        bucket: settings.name,
        forceDestroy: false,
      });
      expect(
        one(
          registered,
          "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
          `${id}PublicAccess`,
        ).inputs,
      ).toMatchObject({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(
        one(registered, "aws:s3/bucketVersioning:BucketVersioning", `${id}Versioning`).inputs,
      ).toMatchObject({
        versioningConfiguration: { status: "Enabled" },
      });
      expect(
        one(
          registered,
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          `${id}Encryption`,
        ).inputs,
      ).toMatchObject({
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" },
            bucketKeyEnabled: true,
          },
        ],
      });
      expect(
        one(registered, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", `${id}Ownership`)
          .inputs,
      ).toMatchObject({
        rule: { objectOwnership: "BucketOwnerEnforced" },
      });
      expect(
        one(
          registered,
          "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
          `${id}Lifecycle`,
        ).inputs,
      ).toMatchObject({
        rules: [
          {
            status: "Enabled",
            noncurrentVersionExpiration: {
              noncurrentDays: settings.lifecycle.noncurrentVersionExpirationDays,
            },
            abortIncompleteMultipartUpload: {
              daysAfterInitiation: settings.lifecycle.abortIncompleteMultipartUploadDays,
            },
          },
          ...(settings.lifecycle.expirations ?? []).map((e) => ({
            status: "Enabled",
            filter: { prefix: e.prefix },
            expiration: { days: e.days },
          })),
        ],
      });
      expect(
        JSON.parse(
          one(registered, "aws:s3/bucketPolicy:BucketPolicy", `${id}Policy`).inputs
            .policy as string,
        ),
      ).toEqual(settings.policy);
    });
  }
});

describe("the preprod read role", () => {
  it("is created with the read statements and a trust in the prod VerifyPreprod role", async () => {
    const { createPreprodReadRole } = await import("@gantry/stacks/preprod-access");
    const role = createPreprodReadRole({ env: ENV, registry, prodAccountId: "222222222222" });
    expect(role).toBeDefined();
    await outputValue(role?.arn as never);
    const inputs = one(registered, "aws:iam/role:Role", "PreprodReadRole").inputs;
    expect(inputs.name).toBe("gantry-preprod-verify-read");
    const inline = inputs.inlinePolicies as { policy: string }[];
    expect(JSON.parse(inline[0]?.policy ?? "{}")).toEqual(
      policyDocument(preprodReadStatements(registry, ENV)),
    );
    expect(JSON.parse(inputs.assumeRolePolicy as string).Statement[0].Condition).toEqual({
      ArnEquals: {
        "aws:PrincipalArn": "arn:aws:iam::222222222222:role/gantry-prod-verify-preprod",
      },
    });
  });
});
