import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import {
  type ApprovalAction,
  type ApprovalDecisionRecord,
  type ApprovalRecord,
  ApprovalRefused,
  type BreakLockOutcome,
  deepMapStrings,
  type LockInspection,
  terminalText,
} from "@gantry/core";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentityProvider, Checksum, SourceData } from "@smithy/types";
import { CliError, explainError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

/** What `gantry approve|reject` sends. Who is deciding is proved by the transport, not said. */
export interface OperatorDecision {
  readonly approvalId: string;
  readonly action: ApprovalAction;
  /** Which approver to decide as, when the caller's identity maps to several. */
  readonly as?: string;
  readonly comment?: string;
}

/** A decision that was recorded and delivered to the waiting execution. */
export interface DecisionResult {
  readonly decision: ApprovalDecisionRecord;
  readonly execution: { readonly id: string; readonly name: string };
}

/**
 * Where approvals are decided from a terminal: the operator API (`handleOperatorHttp` in
 * @gantry/core), reached with a proof of who is calling. Locally that is the operator secret in
 * GANTRY_HOME; in AWS a SigV4 signature over the request, checked by the operator Function URL
 * (`AWS_IAM` auth). The registry's `operators` say which approver that identity is.
 */
export interface ApprovalDesk {
  /** Approvals still waiting for a decision, newest first. */
  pending(): Promise<readonly ApprovalRecord[]>;
  /** Decides; throws ApprovalRefused with the service's reason when it may not. */
  decide(request: OperatorDecision): Promise<DecisionResult>;
}

/** Adds the caller's proof of identity to a request about to be sent. */
type Authorize = (request: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}) => Promise<Record<string, string>>;

/**
 * The operator API over HTTP, authorised by `authorize`. Every answer is remote text: strings
 * are cleaned of terminal escape sequences before anything reaches the caller.
 */
export class OperatorApiDesk implements ApprovalDesk {
  readonly #base: string;
  readonly #authorize: Authorize;

  constructor(baseUrl: string, authorize: Authorize) {
    this.#base = baseUrl.replace(/\/+$/, "");
    this.#authorize = authorize;
  }

  async pending(): Promise<readonly ApprovalRecord[]> {
    const body = (await this.#call("GET", "/operator/approvals")) as {
      approvals?: ApprovalRecord[];
    };
    return body.approvals ?? [];
  }

  async decide(request: OperatorDecision): Promise<DecisionResult> {
    return (await this.#call(
      "POST",
      `/operator/approvals/${encodeURIComponent(request.approvalId)}`,
      {
        action: request.action,
        ...(request.as ? { as: request.as } : {}),
        ...(request.comment ? { comment: request.comment } : {}),
      },
    )) as DecisionResult;
  }

  /** The service's lock in a stage, inspected; ApprovalRefused (404 "No lock") when there is none. */
  async inspectLock(stage: string, service: string): Promise<LockInspection> {
    const body = (await this.#call("GET", lockPath(stage, service))) as { lock: LockInspection };
    return body.lock;
  }

  /** Breaks the service's lock (`gantry unlock`); ApprovalRefused with the service's reason when it may not. */
  async breakLock(
    stage: string,
    service: string,
    request: { reason: string; etag?: string; forceDamaged?: boolean },
  ): Promise<BreakLockOutcome> {
    return (await this.#call("POST", lockPath(stage, service), request)) as BreakLockOutcome;
  }

  async #call(method: "GET" | "POST", path: string, payload?: unknown): Promise<unknown> {
    const url = new URL(`${this.#base}${path}`);
    const body = payload !== undefined ? JSON.stringify(payload) : undefined;
    const headers: Record<string, string> = {
      accept: "application/json",
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    };
    let response: Response;
    try {
      const signed = await this.#authorize({
        method,
        url,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      response = await fetch(url, {
        method,
        headers: signed,
        ...(body !== undefined ? { body } : {}),
      });
    } catch (error) {
      throw explainError(error, { endpoint: this.#base });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = deepMapStrings(JSON.parse(text), (s) => terminalText(s, { multiline: true }));
    } catch {
      throw new CliError(
        ExitCode.Failed,
        `${this.#base}${path} answered ${response.status} without JSON: is that Gantry's operator endpoint?`,
        [
          "locally: pass --web-endpoint URL (npm start prints it: 'Console and approvals');",
          "in AWS: pass --operator-url URL (sst deploy prints it: operatorUrl)",
        ],
      );
    }
    if (!response.ok) {
      const problem = parsed as { error?: string; status?: number; message?: string };
      const status = problem.status ?? response.status;
      if (status === 400 || status === 403 || status === 404 || status === 409 || status === 410) {
        throw new ApprovalRefused(status, problem.error ?? "Refused", problem.message ?? "refused");
      }
      if (status === 401) {
        throw new CliError(
          ExitCode.Failed,
          `the operator API refused the credentials: ${problem.message ?? "unauthenticated"}`,
        );
      }
      throw new CliError(
        ExitCode.Failed,
        `the operator API failed (${response.status}): ${problem.message ?? terminalText(text)}`,
      );
    }
    return parsed;
  }
}

function lockPath(stage: string, service: string): string {
  return `/operator/locks/${encodeURIComponent(stage)}/${encodeURIComponent(service)}`;
}

/**
 * The local control plane's operator API, with the operator secret from GANTRY_HOME.
 *
 * @example
 * ```ts
 * const desk = localOperatorDesk("http://127.0.0.1:8084", readFileSync(".gantry/operator-secret", "utf8").trim());
 * await desk.decide({ approvalId, action: "approve" });
 * ```
 */
export function localOperatorDesk(webEndpoint: string, secret: string): OperatorApiDesk {
  return new OperatorApiDesk(webEndpoint, async ({ headers }) => ({
    ...headers,
    authorization: `Bearer ${secret}`,
  }));
}

/**
 * The AWS operator Function URL, with the request signed (SigV4, service `lambda`) by the
 * caller's own AWS credentials: IAM says who is calling, the registry which approver that is.
 *
 * @example
 * ```ts
 * const desk = awsOperatorDesk("https://abc.lambda-url.us-east-1.on.aws", fromNodeProviderChain());
 * ```
 */
export function awsOperatorDesk(
  operatorUrl: string,
  credentials: AwsCredentialIdentityProvider,
  fallbackRegion?: string,
): OperatorApiDesk {
  const region = regionOfFunctionUrl(operatorUrl) ?? fallbackRegion ?? "us-east-1";
  const signer = new SignatureV4({ service: "lambda", region, credentials, sha256: NodeSha256 });
  return new OperatorApiDesk(operatorUrl, async ({ method, url, headers, body }) => {
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...headers, host: url.host },
      ...(body !== undefined ? { body } : {}),
    });
    return signed.headers;
  });
}

/** `https://<id>.lambda-url.<region>.on.aws/` -> the region. */
export function regionOfFunctionUrl(url: string): string | undefined {
  try {
    return /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(new URL(url).hostname)?.[1];
  } catch {
    return undefined;
  }
}

/** SHA-256 and HMAC-SHA256 from node:crypto, in the shape the SigV4 signer takes. */
class NodeSha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = NodeSha256.#create(secret);
  }

  update(data: Uint8Array | string): void {
    this.#hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = NodeSha256.#create(this.#secret);
  }

  static #create(secret: SourceData | undefined): Hash | Hmac {
    if (secret === undefined) return createHash("sha256");
    const key =
      typeof secret === "string"
        ? secret
        : ArrayBuffer.isView(secret)
          ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
          : Buffer.from(secret);
    return createHmac("sha256", key);
  }
}
