/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Gantry's control plane, one SST stage per Gantry stage: `npx sst deploy --stage preprod`,
 * then `npx sst deploy --stage prod` (docs/deploy.md). The modules in stacks/ hold the parts;
 * their policies, alarms and schedules are plain data the infra tests check offline.
 */
export default $config({
  async app(input) {
    const { checkStage } = await import("@gantry/stacks/config");
    const stage = checkStage(input.stage);
    return {
      name: "gantry",
      home: "aws",
      // Buckets (artifacts, records) outlive `sst remove`; prod cannot be removed by accident.
      removal: "retain",
      protect: stage === "prod",
    };
  },
  async run() {
    const { readFileSync } = await import("node:fs");
    const registry = (await import("./gantry.registry.ts")).default;
    const { readConfig } = await import("@gantry/stacks/config");
    const { currentAwsEnv } = await import("@gantry/stacks/env");
    const { createStorage } = await import("@gantry/stacks/storage");
    const approval = await import("@gantry/stacks/approval");
    const { createFunctions, workflowFunctionArns } = await import("@gantry/stacks/functions");
    const { createWorkflow } = await import("@gantry/stacks/workflow");
    const { createCanarySchedule } = await import("@gantry/stacks/canary");
    const { createHolds } = await import("@gantry/stacks/holds");
    const { createNotifications } = await import("@gantry/stacks/alarms");
    const { createPreprodReadRole } = await import("@gantry/stacks/preprod-access");
    const { controlPlaneOutputs } = await import("@gantry/stacks/outputs");

    const config = readConfig($app.stage, process.env, registry);
    const { stage } = config;
    const env = await currentAwsEnv();
    const aslText = readFileSync("state-machines/workflow.asl.json", "utf8");

    const storage = createStorage({
      stage,
      env,
      registry,
      ...(config.stateBucket ? { stateBucket: config.stateBucket } : {}),
      ...(config.prodAccountId ? { prodAccountId: config.prodAccountId } : {}),
    });
    approval.senderIdentity(config.senderIdentity);
    const keys = approval.createKeySecrets(stage);
    const functions = createFunctions({
      stage,
      env,
      registry,
      config,
      aslText,
      stateBucket: storage.state.settings.name,
      // The versions' ARNs (the secrets'): no function exists before its keys have a value.
      keySecretArns: { links: keys.links.version.arn, decisions: keys.decisions.version.arn },
    });
    const workflow = createWorkflow({
      stage,
      env,
      aslText,
      functionArns: workflowFunctionArns(functions, aslText, stage),
    });
    const holdEvents = functions["hold-events"];
    if (!holdEvents) throw new Error("hold-events must exist");
    createHolds({ stage, env, registry, holdEventsFunctionArn: holdEvents.arn });
    const scheduledCanary = functions["scheduled-canary"];
    if (scheduledCanary) createCanarySchedule(scheduledCanary.arn);
    const reconcile = functions.reconcile;
    const approvalHttp = functions["approval-http"];
    const approvalOperator = functions["approval-operator"];
    if (!reconcile || !approvalHttp || !approvalOperator)
      throw new Error("reconcile, approval-http and approval-operator must exist");
    const notifications = createNotifications({
      stage,
      env,
      registry,
      reconcileFunctionArn: reconcile.arn,
      notifyEmails: config.notifyEmails,
    });
    const preprodRead = config.prodAccountId
      ? createPreprodReadRole({ env, registry, prodAccountId: config.prodAccountId })
      : undefined;

    return controlPlaneOutputs({
      stateMachineArn: workflow.machine.arn,
      approvalUrl: approvalHttp.url,
      operatorUrl: approvalOperator.url,
      artifactBucket: storage.artifacts.bucket.bucket,
      stateBucket: storage.state.bucket.bucket,
      notificationsTopicArn: notifications.topic.arn,
      ...(preprodRead ? { preprodReadRoleArn: preprodRead.arn } : {}),
    });
  },
});
