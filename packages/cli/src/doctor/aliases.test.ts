/** doctor's alias checks (aliases.ts) over a mocked Lambda. */
import { GetAliasCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { checkAlias } from "./aliases.ts";
import { awsError, doctorClients, prodPlan } from "./testing.ts";

const lambda = mockClient(LambdaClient);

const clients = doctorClients();

beforeEach(() => {
  lambda.reset();
});
const target = prodPlan().targets[0] ?? { service: "", functionName: "", alias: "", alarms: [] };

describe("checkAlias", () => {
  it("passes an alias on a numbered version without weights", async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: "7", Name: "live" });
    expect(await checkAlias(clients.lambda, target, "prod")).toEqual({
      check: "alias",
      subject: "hello-service-prod:live",
      status: "ok",
      message: "on version 7, no weights",
    });
    expect(lambda.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: "hello-service-prod",
      Name: "live",
    });
  });

  it("fails $LATEST, leftover weights, a missing alias and an unreadable one", async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: "$LATEST" });
    const latest = await checkAlias(clients.lambda, target, "prod");
    expect(latest.status).toBe("fail");
    expect(latest.message).toBe(
      "points at $LATEST, not a numbered version: a rollback would have nothing to go back to",
    );
    expect(latest.fix).toContain("aws lambda publish-version --function-name hello-service-prod");

    lambda.on(GetAliasCommand).resolves({
      FunctionVersion: "7",
      RoutingConfig: { AdditionalVersionWeights: { "8": 0.1 } },
    });
    const weighted = await checkAlias(clients.lambda, target, "prod");
    expect(weighted.message).toBe(
      "on version 7 but also routes 10% to version 8: a rollout was interrupted (or one is running now)",
    );
    expect(weighted.fix).toContain(
      `--function-version 7 --routing-config '{"AdditionalVersionWeights":{}}'`,
    );

    lambda.on(GetAliasCommand).rejects(awsError("ResourceNotFoundException", 404));
    expect((await checkAlias(clients.lambda, target, "prod")).message).toContain(
      "the function or its alias does not exist",
    );

    lambda.on(GetAliasCommand).rejects(awsError("AccessDeniedException", 403, "no"));
    expect((await checkAlias(clients.lambda, target, "prod")).fix).toContain("lambda:GetAlias");
  });
});
