import {
  type AliasConfiguration,
  type FunctionConfiguration,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdated,
  waitUntilPublishedVersionActive,
} from "@aws-sdk/client-lambda";
import {
  type AliasState,
  base64ToHex,
  ConcurrentModification,
  DeploymentFailed,
  type FunctionControl,
  type FunctionVersionInfo,
  hexToBase64,
  type InvocationResult,
  type ObjectRef,
  TargetNotFound,
  TransientError,
} from "@gantry/core";
import { aws, errorName } from "./errors.ts";

export interface LambdaFunctionControlOptions {
  /** Longest wait for a code update to finish (LastUpdateStatus), in seconds. */
  readonly updateTimeoutSeconds?: number;
}

/**
 * Lambda versions and weighted aliases. Digests cross this boundary as hex; Lambda's base64
 * CodeSha256 is converted on the way in and out. RevisionIds make each change conditional on
 * the state we last read, so a concurrent change fails as {@link ConcurrentModification}
 * instead of being overwritten.
 *
 * @example
 * ```ts
 * const functions = new LambdaFunctionControl(new LambdaClient({}));
 * const alias = await functions.getAlias("hello-service", "live");
 * ```
 */
export class LambdaFunctionControl implements FunctionControl {
  readonly #lambda: LambdaClient;
  readonly #updateTimeoutSeconds: number;

  constructor(lambda: LambdaClient, options: LambdaFunctionControlOptions = {}) {
    this.#lambda = lambda;
    this.#updateTimeoutSeconds = options.updateTimeoutSeconds ?? 240;
  }

  async getAlias(functionName: string, alias: string): Promise<AliasState | undefined> {
    try {
      const out = await aws("GetAlias", () =>
        this.#lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias })),
      );
      return toAliasState(out);
    } catch (error) {
      if (errorName(error) === "ResourceNotFoundException") return undefined;
      throw error;
    }
  }

  async getVersion(
    functionName: string,
    version: string,
  ): Promise<FunctionVersionInfo | undefined> {
    try {
      const out = await aws("GetFunctionConfiguration", () =>
        this.#lambda.send(
          new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }),
        ),
      );
      return toVersionInfo(out);
    } catch (error) {
      if (errorName(error) === "ResourceNotFoundException") return undefined;
      throw error;
    }
  }

  async updateCode(
    functionName: string,
    source: ObjectRef & { versionId?: string },
  ): Promise<FunctionVersionInfo> {
    const out = await this.#change(
      "UpdateFunctionCode",
      () =>
        this.#lambda.send(
          new UpdateFunctionCodeCommand({
            FunctionName: functionName,
            S3Bucket: source.bucket,
            S3Key: source.key,
            ...(source.versionId ? { S3ObjectVersion: source.versionId } : {}),
            Publish: false,
          }),
        ),
      functionName,
    );
    if (out.LastUpdateStatus !== "Successful") {
      // The waiter that polls GetFunctionConfiguration: GetFunction would also hand out a
      // download link of the code, a permission Deploy does not need.
      const waited = await waitUntilFunctionUpdated(
        { client: this.#lambda, maxWaitTime: this.#updateTimeoutSeconds, minDelay: 1, maxDelay: 5 },
        { FunctionName: functionName },
      ).catch((error: unknown) => ({ state: "FAILURE", reason: error }));
      if (waited.state !== "SUCCESS") {
        // Failed is Lambda's verdict on the code (a bad zip, a wrong handler): retrying the same
        // update fails the same way. Anything else (still in progress) may finish later.
        const config = await this.#configuration(functionName, "$LATEST");
        if (config?.LastUpdateStatus === "Failed") {
          throw new DeploymentFailed(
            `Lambda could not update ${functionName}'s code: ${config.LastUpdateStatusReasonCode ?? "Failed"}: ${config.LastUpdateStatusReason ?? "(no reason given)"}`,
          );
        }
        throw new TransientError(
          `the code update of ${functionName} did not finish (${String(waited.state)})`,
        );
      }
    }
    // Read back: the RevisionId moves when the update completes.
    const latest = await this.getVersion(functionName, "$LATEST");
    if (!latest) throw new TargetNotFound(`function ${functionName} disappeared during the update`);
    return latest;
  }

  async #configuration(functionName: string, qualifier: string) {
    return aws("GetFunctionConfiguration", () =>
      this.#lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: qualifier }),
      ),
    ).catch((error: unknown) => {
      if (errorName(error) === "ResourceNotFoundException") return undefined;
      throw error;
    });
  }

  async publishVersion(
    functionName: string,
    options: { codeSha256: string; revisionId?: string; description: string },
  ): Promise<FunctionVersionInfo> {
    const out = await this.#change(
      "PublishVersion",
      () =>
        this.#lambda.send(
          new PublishVersionCommand({
            FunctionName: functionName,
            CodeSha256: hexToBase64(options.codeSha256),
            Description: options.description.slice(0, 256),
            ...(options.revisionId ? { RevisionId: options.revisionId } : {}),
          }),
        ),
      functionName,
    );
    // A new version can be Pending for a moment (Lambda still preparing it): invoking it then
    // fails. The canary invokes it next, so wait until it is Active.
    if (out.State === "Pending" && out.Version) await this.#untilActive(functionName, out.Version);
    else if (out.State === "Failed") throw versionFailed(functionName, out);
    return toVersionInfo(out);
  }

  async #untilActive(functionName: string, version: string): Promise<void> {
    const waited = await waitUntilPublishedVersionActive(
      { client: this.#lambda, maxWaitTime: this.#updateTimeoutSeconds, minDelay: 1, maxDelay: 5 },
      { FunctionName: functionName, Qualifier: version },
    ).catch((error: unknown) => ({ state: "FAILURE", reason: error }));
    if (waited.state === "SUCCESS") return;
    const config = await this.#configuration(functionName, version);
    if (config?.State === "Failed") throw versionFailed(functionName, config);
    throw new TransientError(
      `version ${version} of ${functionName} did not become Active (${String(waited.state)})`,
    );
  }

  async updateAlias(
    functionName: string,
    alias: string,
    routing: { version: string; weights: Readonly<Record<string, number>>; revisionId?: string },
  ): Promise<AliasState> {
    const out = await this.#change(
      "UpdateAlias",
      () =>
        this.#lambda.send(
          new UpdateAliasCommand({
            FunctionName: functionName,
            Name: alias,
            FunctionVersion: routing.version,
            RoutingConfig: { AdditionalVersionWeights: { ...routing.weights } },
            ...(routing.revisionId ? { RevisionId: routing.revisionId } : {}),
          }),
        ),
      `${functionName}:${alias}`,
    );
    return toAliasState(out);
  }

  async invoke(functionName: string, qualifier: string, event: unknown): Promise<InvocationResult> {
    const out = await aws("Invoke", () =>
      this.#lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          Qualifier: qualifier,
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      ),
    );
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : "";
    return {
      executedVersion: out.ExecutedVersion ?? qualifier,
      ...(out.FunctionError ? { functionError: out.FunctionError } : {}),
      payload: parseMaybeJson(text),
    };
  }

  /** A mutating call: a RevisionId mismatch means someone else changed the function. */
  async #change<T>(operation: string, call: () => Promise<T>, what: string): Promise<T> {
    try {
      return await aws(operation, call);
    } catch (error) {
      if (errorName(error) === "PreconditionFailedException") {
        throw new ConcurrentModification(
          `${what} changed while Gantry was updating it (${operation})`,
          { cause: error },
        );
      }
      if (errorName(error) === "ResourceNotFoundException") {
        throw new TargetNotFound(`${what} does not exist (${operation})`, { cause: error });
      }
      throw error;
    }
  }
}

function versionFailed(functionName: string, config: FunctionConfiguration): DeploymentFailed {
  return new DeploymentFailed(
    `version ${config.Version ?? "?"} of ${functionName} failed to become Active: ${config.StateReasonCode ?? "Failed"}: ${config.StateReason ?? "(no reason given)"}`,
  );
}

function toAliasState(out: AliasConfiguration): AliasState {
  return {
    name: out.Name ?? "",
    version: out.FunctionVersion ?? "",
    weights: { ...(out.RoutingConfig?.AdditionalVersionWeights ?? {}) },
    ...(out.RevisionId ? { revisionId: out.RevisionId } : {}),
  };
}

function toVersionInfo(out: FunctionConfiguration): FunctionVersionInfo {
  return {
    version: out.Version ?? "",
    codeSha256: (out.CodeSha256 && base64ToHex(out.CodeSha256)) || "",
    ...(out.RevisionId ? { revisionId: out.RevisionId } : {}),
  };
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
