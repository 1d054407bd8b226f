import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  ServiceException,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import {
  ConcurrentModification,
  DeploymentFailed,
  hexToBase64,
  sha256Hex,
  TargetNotFound,
  TransientError,
} from "@gantry/core";
import { rejectionOf } from "@gantry/core/testing";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { LambdaFunctionControl } from "./lambda-functions.ts";

const FN = "hello-prod";
const HEX = sha256Hex("the zip bytes");
const BASE64 = hexToBase64(HEX);
const SOURCE = { bucket: "acme-artifacts-prod", key: "hello-service/3f2a9c1.zip" };

const meta = { $metadata: {} };
const notFound = () => new ResourceNotFoundException({ ...meta, message: "Function not found" });
const preconditionFailed = () =>
  new PreconditionFailedException({ ...meta, message: "The RevisionId provided does not match" });
const throttled = () => new TooManyRequestsException({ ...meta, message: "Rate exceeded" });
const payload = (text: string) => new TextEncoder().encode(text) as InvokeCommandOutput["Payload"];

let lambda: LambdaClient;
let mock: AwsClientStub<LambdaClient>;
let functions: LambdaFunctionControl;

beforeEach(() => {
  lambda = new LambdaClient({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  mock = mockClient(lambda);
  functions = new LambdaFunctionControl(lambda);
});

describe("LambdaFunctionControl.getAlias", () => {
  it("returns the primary version, the extra versions' weights and the RevisionId", async () => {
    mock.on(GetAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "6",
      RoutingConfig: { AdditionalVersionWeights: { "7": 0.1 } },
      RevisionId: "rev-1",
    });
    await expect(functions.getAlias(FN, "live")).resolves.toEqual({
      name: "live",
      version: "6",
      weights: { "7": 0.1 },
      revisionId: "rev-1",
    });
    expect(mock.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      Name: "live",
    });
  });

  it("reports no weights for an alias without routing", async () => {
    mock.on(GetAliasCommand).resolves({ Name: "live", FunctionVersion: "6" });
    await expect(functions.getAlias(FN, "live")).resolves.toEqual({
      name: "live",
      version: "6",
      weights: {},
    });
  });

  it("returns undefined for a missing alias", async () => {
    mock.on(GetAliasCommand).rejects(notFound());
    await expect(functions.getAlias(FN, "live")).resolves.toBeUndefined();
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(GetAliasCommand).rejects(original);
    const error = await rejectionOf(functions.getAlias(FN, "live"));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("LambdaFunctionControl.getVersion", () => {
  it("converts Lambda's base64 CodeSha256 to hex", async () => {
    mock.on(GetFunctionConfigurationCommand).resolves({
      Version: "7",
      CodeSha256: BASE64,
      RevisionId: "rev-7",
    });
    await expect(functions.getVersion(FN, "7")).resolves.toEqual({
      version: "7",
      codeSha256: HEX,
      revisionId: "rev-7",
    });
    expect(mock.commandCalls(GetFunctionConfigurationCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      Qualifier: "7",
    });
  });

  it("reports an empty digest when Lambda returns none", async () => {
    mock.on(GetFunctionConfigurationCommand).resolves({ Version: "7" });
    await expect(functions.getVersion(FN, "7")).resolves.toEqual({ version: "7", codeSha256: "" });
  });

  it("returns undefined for a missing version", async () => {
    mock.on(GetFunctionConfigurationCommand).rejects(notFound());
    await expect(functions.getVersion(FN, "99")).resolves.toBeUndefined();
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(GetFunctionConfigurationCommand).rejects(original);
    const error = await rejectionOf(functions.getVersion(FN, "7"));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("LambdaFunctionControl.updateCode", () => {
  beforeEach(() => {
    mock.on(GetFunctionConfigurationCommand).resolves({
      Version: "$LATEST",
      CodeSha256: BASE64,
      RevisionId: "rev-after-update",
    });
  });

  it("points $LATEST at the exact object version without publishing", async () => {
    mock.on(UpdateFunctionCodeCommand).resolves({ LastUpdateStatus: "Successful" });
    await functions.updateCode(FN, { ...SOURCE, versionId: "obj-v3" });
    expect(mock.commandCalls(UpdateFunctionCodeCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      S3Bucket: SOURCE.bucket,
      S3Key: SOURCE.key,
      S3ObjectVersion: "obj-v3",
      Publish: false,
    });
  });

  it("sends no S3ObjectVersion for an unversioned object", async () => {
    mock.on(UpdateFunctionCodeCommand).resolves({ LastUpdateStatus: "Successful" });
    await functions.updateCode(FN, SOURCE);
    expect(mock.commandCalls(UpdateFunctionCodeCommand)[0]?.args[0].input).not.toHaveProperty(
      "S3ObjectVersion",
    );
  });

  it("returns $LATEST as read back after the update, with a hex digest and the new RevisionId", async () => {
    mock.on(UpdateFunctionCodeCommand).resolves({
      LastUpdateStatus: "Successful",
      RevisionId: "rev-during-update",
    });
    await expect(functions.updateCode(FN, SOURCE)).resolves.toEqual({
      version: "$LATEST",
      codeSha256: HEX,
      revisionId: "rev-after-update",
    });
    expect(mock.commandCalls(GetFunctionConfigurationCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      Qualifier: "$LATEST",
    });
  });

  it("does not poll when the update finished at once", async () => {
    mock.on(UpdateFunctionCodeCommand).resolves({ LastUpdateStatus: "Successful" });
    await functions.updateCode(FN, SOURCE);
    // Only the read-back of $LATEST, no waiting.
    expect(mock.commandCalls(GetFunctionConfigurationCommand)).toHaveLength(1);
  });

  it("waits for an update in progress to finish, polling GetFunctionConfiguration (never GetFunction)", async () => {
    mock.on(UpdateFunctionCodeCommand).resolves({ LastUpdateStatus: "InProgress" });
    mock
      .on(GetFunctionConfigurationCommand)
      .resolvesOnce({ LastUpdateStatus: "Successful" })
      .resolves({ Version: "$LATEST", CodeSha256: BASE64, RevisionId: "rev-after-update" });
    await expect(functions.updateCode(FN, SOURCE)).resolves.toMatchObject({ codeSha256: HEX });
    expect(mock.commandCalls(GetFunctionConfigurationCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
    });
    expect(mock.commandCalls(GetFunctionCommand)).toHaveLength(0);
  });

  it("fails with DeploymentFailed, not a retried TransientError, when Lambda reports the update Failed", async () => {
    mock.on(UpdateFunctionCodeCommand).resolves({ LastUpdateStatus: "InProgress" });
    mock.on(GetFunctionConfigurationCommand).resolves({
      LastUpdateStatus: "Failed",
      LastUpdateStatusReasonCode: "InvalidZipFileException",
      LastUpdateStatusReason: "Could not unzip uploaded file",
    });
    const error = await rejectionOf(functions.updateCode(FN, SOURCE));
    expect(error).toBeInstanceOf(DeploymentFailed);
    expect(error.message).toBe(
      `Lambda could not update ${FN}'s code: InvalidZipFileException: Could not unzip uploaded file`,
    );
  });

  it("fails with TransientError when the update is still in progress when the wait ends", async () => {
    const patient = new LambdaFunctionControl(lambda, { updateTimeoutSeconds: 1 });
    mock.on(UpdateFunctionCodeCommand).resolves({ LastUpdateStatus: "InProgress" });
    mock.on(GetFunctionConfigurationCommand).resolves({ LastUpdateStatus: "InProgress" });
    const error = await rejectionOf(patient.updateCode(FN, SOURCE));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toContain(`the code update of ${FN} did not finish`);
  });

  it("turns ResourceNotFoundException into TargetNotFound", async () => {
    const original = notFound();
    mock.on(UpdateFunctionCodeCommand).rejects(original);
    const error = await rejectionOf(functions.updateCode(FN, SOURCE));
    expect(error).toBeInstanceOf(TargetNotFound);
    expect(error.name).toBe("TargetNotFound");
    expect(error.message).toBe(`${FN} does not exist (UpdateFunctionCode)`);
    expect(error.cause).toBe(original);
  });

  it("turns PreconditionFailedException into ConcurrentModification", async () => {
    const original = preconditionFailed();
    mock.on(UpdateFunctionCodeCommand).rejects(original);
    const error = await rejectionOf(functions.updateCode(FN, SOURCE));
    expect(error).toBeInstanceOf(ConcurrentModification);
    expect(error.cause).toBe(original);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(UpdateFunctionCodeCommand).rejects(original);
    const error = await rejectionOf(functions.updateCode(FN, SOURCE));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("turns an update already in progress (ResourceConflictException) into TransientError", async () => {
    const original = new ResourceConflictException({
      ...meta,
      message: "An update is in progress",
    });
    mock.on(UpdateFunctionCodeCommand).rejects(original);
    const error = await rejectionOf(functions.updateCode(FN, SOURCE));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("fails with TargetNotFound when the function is gone when read back", async () => {
    mock.on(UpdateFunctionCodeCommand).resolves({ LastUpdateStatus: "Successful" });
    mock.on(GetFunctionConfigurationCommand).rejects(notFound());
    await expect(functions.updateCode(FN, SOURCE)).rejects.toThrow(TargetNotFound);
  });
});

describe("LambdaFunctionControl.publishVersion", () => {
  it("sends the expected digest as base64 CodeSha256, with the RevisionId", async () => {
    mock.on(PublishVersionCommand).resolves({ Version: "7", CodeSha256: BASE64 });
    await functions.publishVersion(FN, {
      codeSha256: HEX,
      revisionId: "rev-after-update",
      description: "1.4.0 (3f2a9c1)",
    });
    expect(mock.commandCalls(PublishVersionCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      CodeSha256: BASE64,
      Description: "1.4.0 (3f2a9c1)",
      RevisionId: "rev-after-update",
    });
  });

  it("returns the new version with its digest as hex", async () => {
    mock
      .on(PublishVersionCommand)
      .resolves({ Version: "7", CodeSha256: BASE64, RevisionId: "rev-7" });
    await expect(
      functions.publishVersion(FN, { codeSha256: HEX, description: "1.4.0" }),
    ).resolves.toEqual({ version: "7", codeSha256: HEX, revisionId: "rev-7" });
  });

  it("waits for a Pending version to become Active before the canary invokes it", async () => {
    mock.on(PublishVersionCommand).resolves({ Version: "8", CodeSha256: BASE64, State: "Pending" });
    mock
      .on(GetFunctionConfigurationCommand)
      .resolvesOnce({ Version: "8", State: "Pending" })
      .resolves({ Version: "8", State: "Active" });
    await expect(
      functions.publishVersion(FN, { codeSha256: HEX, description: "d" }),
    ).resolves.toMatchObject({
      version: "8",
    });
    expect(
      mock.commandCalls(GetFunctionConfigurationCommand).map((c) => c.args[0].input),
    ).toContainEqual({
      FunctionName: FN,
      Qualifier: "8",
    });
  });

  it("fails with DeploymentFailed when the new version fails to become Active", async () => {
    mock.on(PublishVersionCommand).resolves({ Version: "8", CodeSha256: BASE64, State: "Pending" });
    mock.on(GetFunctionConfigurationCommand).resolves({
      Version: "8",
      State: "Failed",
      StateReasonCode: "SubnetOutOfIPAddresses",
      StateReason: "no IP addresses left",
    });
    const error = await rejectionOf(
      functions.publishVersion(FN, { codeSha256: HEX, description: "d" }),
    );
    expect(error).toBeInstanceOf(DeploymentFailed);
    expect(error.message).toContain("SubnetOutOfIPAddresses: no IP addresses left");
  });

  it("sends no RevisionId when none is given", async () => {
    mock.on(PublishVersionCommand).resolves({ Version: "7", CodeSha256: BASE64 });
    await functions.publishVersion(FN, { codeSha256: HEX, description: "1.4.0" });
    expect(mock.commandCalls(PublishVersionCommand)[0]?.args[0].input).not.toHaveProperty(
      "RevisionId",
    );
  });

  it("cuts the description to Lambda's 256 characters", async () => {
    mock.on(PublishVersionCommand).resolves({ Version: "7", CodeSha256: BASE64 });
    await functions.publishVersion(FN, { codeSha256: HEX, description: "x".repeat(300) });
    expect(mock.commandCalls(PublishVersionCommand)[0]?.args[0].input.Description).toBe(
      "x".repeat(256),
    );
  });

  it("refuses a digest that is not SHA-256 hex, without calling Lambda", async () => {
    await expect(
      functions.publishVersion(FN, { codeSha256: BASE64, description: "1.4.0" }),
    ).rejects.toThrow(TypeError);
    expect(mock.commandCalls(PublishVersionCommand)).toHaveLength(0);
  });

  it("turns PreconditionFailedException into ConcurrentModification", async () => {
    const original = preconditionFailed();
    mock.on(PublishVersionCommand).rejects(original);
    const error = await rejectionOf(
      functions.publishVersion(FN, { codeSha256: HEX, revisionId: "old", description: "1.4.0" }),
    );
    expect(error).toBeInstanceOf(ConcurrentModification);
    expect(error.name).toBe("ConcurrentModification");
    expect(error.message).toBe(`${FN} changed while Gantry was updating it (PublishVersion)`);
    expect(error.cause).toBe(original);
  });

  it("turns ResourceNotFoundException into TargetNotFound", async () => {
    const original = notFound();
    mock.on(PublishVersionCommand).rejects(original);
    const error = await rejectionOf(
      functions.publishVersion(FN, { codeSha256: HEX, description: "1.4.0" }),
    );
    expect(error).toBeInstanceOf(TargetNotFound);
    expect(error.cause).toBe(original);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(PublishVersionCommand).rejects(original);
    const error = await rejectionOf(
      functions.publishVersion(FN, { codeSha256: HEX, description: "1.4.0" }),
    );
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("LambdaFunctionControl.updateAlias", () => {
  it("sends the primary version, the weights as AdditionalVersionWeights and the RevisionId", async () => {
    mock.on(UpdateAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "6",
      RoutingConfig: { AdditionalVersionWeights: { "7": 0.25 } },
      RevisionId: "rev-2",
    });
    await functions.updateAlias(FN, "live", {
      version: "6",
      weights: { "7": 0.25 },
      revisionId: "rev-1",
    });
    expect(mock.commandCalls(UpdateAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: FN,
      Name: "live",
      FunctionVersion: "6",
      RoutingConfig: { AdditionalVersionWeights: { "7": 0.25 } },
      RevisionId: "rev-1",
    });
  });

  it("returns the alias as Lambda reports it", async () => {
    mock.on(UpdateAliasCommand).resolves({
      Name: "live",
      FunctionVersion: "6",
      RoutingConfig: { AdditionalVersionWeights: { "7": 0.25 } },
      RevisionId: "rev-2",
    });
    await expect(
      functions.updateAlias(FN, "live", { version: "6", weights: { "7": 0.25 } }),
    ).resolves.toEqual({ name: "live", version: "6", weights: { "7": 0.25 }, revisionId: "rev-2" });
  });

  it("clears the routing with empty AdditionalVersionWeights when there are no weights", async () => {
    mock.on(UpdateAliasCommand).resolves({ Name: "live", FunctionVersion: "7" });
    await functions.updateAlias(FN, "live", { version: "7", weights: {} });
    const input = mock.commandCalls(UpdateAliasCommand)[0]?.args[0].input;
    expect(input?.RoutingConfig).toEqual({ AdditionalVersionWeights: {} });
    expect(input).not.toHaveProperty("RevisionId");
  });

  it("turns PreconditionFailedException into ConcurrentModification naming the alias", async () => {
    const original = preconditionFailed();
    mock.on(UpdateAliasCommand).rejects(original);
    const error = await rejectionOf(
      functions.updateAlias(FN, "live", { version: "6", weights: {}, revisionId: "old" }),
    );
    expect(error).toBeInstanceOf(ConcurrentModification);
    expect(error.message).toBe(`${FN}:live changed while Gantry was updating it (UpdateAlias)`);
    expect(error.cause).toBe(original);
  });

  it("turns ResourceNotFoundException into TargetNotFound naming the alias", async () => {
    const original = notFound();
    mock.on(UpdateAliasCommand).rejects(original);
    const error = await rejectionOf(
      functions.updateAlias(FN, "live", { version: "6", weights: {} }),
    );
    expect(error).toBeInstanceOf(TargetNotFound);
    expect(error.message).toBe(`${FN}:live does not exist (UpdateAlias)`);
    expect(error.cause).toBe(original);
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(UpdateAliasCommand).rejects(original);
    const error = await rejectionOf(
      functions.updateAlias(FN, "live", { version: "6", weights: {} }),
    );
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("turns a Lambda ServiceException (HTTP 500) into TransientError", async () => {
    const original = new ServiceException({
      $metadata: { httpStatusCode: 500 },
      message: "internal",
    });
    mock.on(UpdateAliasCommand).rejects(original);
    const error = await rejectionOf(
      functions.updateAlias(FN, "live", { version: "6", weights: {} }),
    );
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });
});

describe("LambdaFunctionControl.invoke", () => {
  it("sends the event as JSON to the qualifier and parses the JSON response", async () => {
    mock.on(InvokeCommand).resolves({
      ExecutedVersion: "7",
      Payload: payload('{"statusCode":200,"body":"hello"}'),
    });
    await expect(functions.invoke(FN, "7", { path: "/health" })).resolves.toEqual({
      executedVersion: "7",
      payload: { statusCode: 200, body: "hello" },
    });
    const input = mock.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe(FN);
    expect(input?.Qualifier).toBe("7");
    expect(new TextDecoder().decode(input?.Payload as Uint8Array)).toBe('{"path":"/health"}');
  });

  it("reports a function error", async () => {
    mock.on(InvokeCommand).resolves({
      ExecutedVersion: "7",
      FunctionError: "Unhandled",
      Payload: payload('{"errorType":"Error","errorMessage":"boom"}'),
    });
    await expect(functions.invoke(FN, "live", {})).resolves.toEqual({
      executedVersion: "7",
      functionError: "Unhandled",
      payload: { errorType: "Error", errorMessage: "boom" },
    });
  });

  it("returns a response that is not JSON as text", async () => {
    mock.on(InvokeCommand).resolves({ ExecutedVersion: "7", Payload: payload("plain text") });
    await expect(functions.invoke(FN, "7", {})).resolves.toMatchObject({ payload: "plain text" });
  });

  it("falls back to the qualifier when Lambda does not say which version ran", async () => {
    mock.on(InvokeCommand).resolves({ Payload: payload("null") });
    await expect(functions.invoke(FN, "7", {})).resolves.toEqual({
      executedVersion: "7",
      payload: null,
    });
  });

  it("turns throttling into TransientError with the original as cause", async () => {
    const original = throttled();
    mock.on(InvokeCommand).rejects(original);
    const error = await rejectionOf(functions.invoke(FN, "7", {}));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.cause).toBe(original);
  });

  it("passes a missing function through as ResourceNotFoundException", async () => {
    const original = notFound();
    mock.on(InvokeCommand).rejects(original);
    await expect(functions.invoke(FN, "7", {})).rejects.toBe(original);
  });
});
