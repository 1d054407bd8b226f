import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SESv2Client } from "@aws-sdk/client-sesv2";
import { STSClient } from "@aws-sdk/client-sts";
import type { Stage } from "@gantry/core";
import { stageOption, stringOption } from "../args.ts";
import { callerOf, type DoctorClients, runChecks } from "../doctor/checks.ts";
import { doctorPlan } from "../doctor/plan.ts";
import { doctorReport, reportLines } from "../doctor/report.ts";
import { stageSettings } from "../doctor/settings.ts";
import { CliError, explainError, networkCode, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { projectRoot } from "../registry.ts";
import { guardClientOutput } from "../remote-text.ts";
import { printJson } from "../render/json.ts";
import { resolveTarget } from "../target.ts";
import { type CommandContext, note, registryOf, say, wantsJson } from "./context.ts";

/** The SDK clients doctor uses, in one region, with the default credential chain. */
export function awsDoctorClients(region: string): DoctorClients {
  const config = { region };
  return {
    sts: guardClientOutput(new STSClient(config)),
    iam: guardClientOutput(new IAMClient(config)),
    cloudwatch: guardClientOutput(new CloudWatchClient(config)),
    lambda: guardClientOutput(new LambdaClient(config)),
    ses: guardClientOutput(new SESv2Client(config)),
    // No region redirects: a bucket in another region is a finding, not something to follow.
    s3: guardClientOutput(new S3Client({ ...config, followRegionRedirects: false })),
    secrets: guardClientOutput(new SecretsManagerClient(config)),
  };
}

const LOCAL_VARIABLES = ["GANTRY_ENDPOINT", "GANTRY_WEB_ENDPOINT"];

/**
 * `gantry doctor --stage S`: checks, with the caller's AWS credentials, what only the real
 * account can tell before a stage's first deployment (see `doctor/checks.ts`), one line per
 * check. Exit 0 when nothing failed (warnings allowed), 5 when a check failed, 2 for usage and
 * settings errors. Always AWS: the local control plane has nothing to check.
 */
export async function doctorCommand(
  context: CommandContext,
  clientsFor: (region: string) => DoctorClients = awsDoctorClients,
): Promise<ExitCode> {
  const { options, io, command } = context;
  const stage = stageOption(command, options, true) as Stage;
  for (const local of ["endpoint", "web-endpoint"]) {
    if (stringOption(options, local) !== undefined) {
      throw new UsageError(
        command,
        `--${local} names a local control plane; doctor checks an AWS account`,
        ["run it with the stage account's AWS credentials (--region or AWS_REGION for the region)"],
      );
    }
  }
  const ignored = LOCAL_VARIABLES.filter((name) => io.env[name]);
  if (ignored.length > 0 && !wantsJson(context)) {
    note(context, `gantry: note: doctor checks AWS; ${ignored.join(", ")} ignored`);
  }

  const { registry } = await registryOf(context);
  const { config } = stageSettings({
    stage,
    registry,
    env: io.env,
    root: projectRoot(io.cwd),
    options,
  });
  const target = resolveTarget({
    command,
    options: { ...options, aws: true },
    env: Object.fromEntries(
      Object.entries(io.env).filter(([name]) => !LOCAL_VARIABLES.includes(name)),
    ),
    cwd: io.cwd,
  });
  const region = await target.s3.config.region().catch(() => undefined);
  if (!region) {
    throw new UsageError(command, "which AWS region is the stage in?", [
      "pass --region, or set AWS_REGION (or a region in your AWS profile)",
    ]);
  }
  const clients = clientsFor(region);
  const caller = await callerOf(clients.sts).catch((error: unknown) => {
    const code = networkCode(error);
    if (code) {
      throw new CliError(ExitCode.Failed, `cannot reach AWS STS in ${region} (${code})`, [
        "check your network (and proxy), and the region: --region or AWS_REGION",
      ]);
    }
    throw explainError(error, { aws: true });
  });
  const plan = doctorPlan({
    registry,
    config,
    env: { partition: caller.partition, region, accountId: caller.accountId },
  });
  const report = doctorReport(stage, region, caller, await runChecks(clients, plan));
  if (wantsJson(context)) printJson(io.stdout, report);
  else say(context, ...reportLines(report));
  return report.exitCode;
}
