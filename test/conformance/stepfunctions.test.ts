/**
 * The Step Functions endpoint with the same real clients: paging, foreign ARNs, tags, request
 * ids and definition validation, as AWS documents them. (The local plane's own executions are
 * covered by test/e2e; these checks need only the two state machines, which moto gets too.)
 */
import { expect } from "vitest";
import {
  aws,
  awsOk,
  boto3,
  type Check,
  type ConformanceTarget,
  cliErrorCode,
  conformance,
} from "./support/harness.ts";

/** The state machines' ARNs, as the target lists them (moto's account is not the local one). */
async function machineArns(t: ConformanceTarget): Promise<string[]> {
  const out = await awsOk(t, ["stepfunctions", "list-state-machines"]);
  return (out.stateMachines as { stateMachineArn: string; name: string }[])
    .filter((m) => m.name.startsWith("gantry-"))
    .map((m) => m.stateMachineArn)
    .sort();
}

async function sfn(t: ConformanceTarget, method: string, params: Record<string, unknown>) {
  const out = await boto3(t, "sfn", { method, params });
  return out;
}

const cliChecks: Check[] = [
  {
    operation: "Step Functions: ListStateMachines",
    name: "pages with --max-items / --starting-token, every machine once",
    async run(t) {
      const arns = await machineArns(t);
      const first = await awsOk(t, ["stepfunctions", "list-state-machines", "--max-items", "1"]);
      expect(first.stateMachines).toHaveLength(1);
      expect(first.NextToken).toBeTruthy();
      const rest = await awsOk(t, [
        "stepfunctions",
        "list-state-machines",
        "--starting-token",
        first.NextToken,
      ]);
      const seen = [...first.stateMachines, ...rest.stateMachines]
        .map((m: { stateMachineArn: string }) => m.stateMachineArn)
        .filter((arn: string) => arns.includes(arn));
      expect(seen.sort()).toEqual(arns);
    },
  },
  {
    operation: "Step Functions: foreign ARNs",
    name: "a state machine ARN of another region or account is StateMachineDoesNotExist",
    async run(t) {
      const [arn = ""] = await machineArns(t);
      for (const foreign of [
        arn.replace(":us-east-1:", ":eu-west-1:"),
        arn.replace(/:\d{12}:/, ":999999999999:"),
      ]) {
        const run = await aws(t, [
          "stepfunctions",
          "describe-state-machine",
          "--state-machine-arn",
          foreign,
        ]);
        expect(cliErrorCode(run), foreign).toBe("StateMachineDoesNotExist");
      }
    },
  },
  {
    operation: "Step Functions: tags",
    name: "tag-resource, list-tags-for-resource and untag-resource on a state machine",
    async run(t) {
      const [arn = ""] = await machineArns(t);
      await awsOk(t, [
        "stepfunctions",
        "tag-resource",
        "--resource-arn",
        arn,
        "--tags",
        "key=team,value=platform",
        "key=tier,value=1",
      ]);
      await awsOk(t, [
        "stepfunctions",
        "untag-resource",
        "--resource-arn",
        arn,
        "--tag-keys",
        "tier",
      ]);
      const listed = await awsOk(t, [
        "stepfunctions",
        "list-tags-for-resource",
        "--resource-arn",
        arn,
      ]);
      expect(listed.tags).toContainEqual({ key: "team", value: "platform" });
      expect(listed.tags.map((tag: { key: string }) => tag.key)).not.toContain("tier");
    },
  },
];

const botoChecks: Check[] = [
  {
    operation: "Step Functions: paging errors",
    name: "maxResults over 1000 is ValidationException",
    moto: "moto 5.2.1 accepts maxResults over 1000 (AWS: maxResults is 0 to 1000, ValidationException)",
    async run(t) {
      const big = await sfn(t, "list_state_machines", { maxResults: 1001 });
      expect(big.error?.code).toBe("ValidationException");
    },
  },
  {
    operation: "Step Functions: paging errors",
    name: "a nextToken the API did not give out is InvalidToken",
    async run(t) {
      const token = await sfn(t, "list_state_machines", { nextToken: "bm90LWEtdG9rZW4" });
      expect(token.error?.code).toBe("InvalidToken");
    },
  },
  {
    operation: "Step Functions: ListExecutions",
    name: "an unknown statusFilter is ValidationException",
    moto: "moto 5.2.1 accepts a statusFilter outside the enum and lists nothing (AWS: ValidationException)",
    async run(t) {
      const [arn = ""] = await machineArns(t);
      const out = await sfn(t, "list_executions", { stateMachineArn: arn, statusFilter: "DONE" });
      expect(out.error?.code).toBe("ValidationException");
    },
  },
  {
    operation: "Step Functions: request ids",
    name: "every response, errors too, carries an x-amzn-RequestId",
    async run(t) {
      const ok = await sfn(t, "list_state_machines", {});
      expect(ok.ok?._headers?.["x-amzn-requestid"]).toBeTruthy();
      const failed = await sfn(t, "describe_state_machine", {
        stateMachineArn: "arn:aws:states:us-east-1:000000000000:stateMachine:no-such-machine",
      });
      expect(failed.error?.code).toBe("StateMachineDoesNotExist");
      expect((failed.error as { requestId?: string } | undefined)?.requestId).toBeTruthy();
    },
  },
  {
    operation: "Step Functions: ValidateStateMachineDefinition",
    name: "OK for a valid definition, FAIL with diagnostics for a broken one",
    moto: "moto 5.2.1 does not implement ValidateStateMachineDefinition (a 500 HTML page)",
    async run(t) {
      const valid = await sfn(t, "validate_state_machine_definition", {
        definition: JSON.stringify({ StartAt: "A", States: { A: { Type: "Succeed" } } }),
      });
      expect(valid.ok?.result).toBe("OK");
      const broken = await sfn(t, "validate_state_machine_definition", {
        definition: JSON.stringify({
          StartAt: "A",
          States: { A: { Type: "Pass", Next: "Nowhere" } },
        }),
      });
      expect(broken.ok?.result).toBe("FAIL");
      expect(broken.ok?.diagnostics.length).toBeGreaterThan(0);
    },
  },
];

conformance("aws-cli", cliChecks);
conformance("boto3", botoChecks);
