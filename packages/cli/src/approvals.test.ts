import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApprovalRefused } from "@gantry/core";
import { SignatureV4 } from "@smithy/signature-v4";
import type { SourceData } from "@smithy/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { awsOperatorDesk, localOperatorDesk, regionOfFunctionUrl } from "./approvals.ts";
import { CliError } from "./errors.ts";

const ID = "A".repeat(24);
const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

let server: Server;
let base: string;
let seen: Seen[];
let answer: (request: Seen) => { status: number; body: string };

beforeEach(async () => {
  seen = [];
  answer = () => ({ status: 200, body: JSON.stringify({ approvals: [] }) });
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    seen.push(request);
    const { status, body } = answer(request);
    res.writeHead(status, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("the local operator desk", () => {
  it("proves itself with the operator secret and sends the decision as JSON, naming nobody", async () => {
    answer = () => ({
      status: 200,
      body: JSON.stringify({
        decision: { approvalId: ID, decision: "approved", by: "alice@example.com" },
        execution: { id: "arn", name: "hello-1" },
      }),
    });
    const result = await localOperatorDesk(base, "s".repeat(43)).decide({
      approvalId: ID,
      action: "approve",
      comment: "ship it",
    });
    expect(result.decision.by).toBe("alice@example.com");
    const [request] = seen;
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe(`/operator/approvals/${ID}`);
    expect(request?.headers.authorization).toBe(`Bearer ${"s".repeat(43)}`);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request?.body ?? "{}")).toEqual({ action: "approve", comment: "ship it" });
  });

  it("passes --as along only as a choice", async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ decision: {}, execution: {} }) });
    await localOperatorDesk(base, "s".repeat(43)).decide({
      approvalId: ID,
      action: "reject",
      as: "bob@example.com",
    });
    expect(JSON.parse(seen[0]?.body ?? "{}")).toEqual({ action: "reject", as: "bob@example.com" });
  });

  it("turns the service's refusals into ApprovalRefused with its status and reason", async () => {
    answer = () => ({
      status: 403,
      body: JSON.stringify({ error: "Not you", status: 403, message: "local is not bob" }),
    });
    const error = await localOperatorDesk(base, "s".repeat(43))
      .decide({ approvalId: ID, action: "approve" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApprovalRefused);
    expect(error).toMatchObject({ status: 403, title: "Not you", message: "local is not bob" });
  });

  it("says a wrong secret is a credentials problem, not a refusal of the approver", async () => {
    answer = () => ({
      status: 401,
      body: JSON.stringify({ error: "Unauthenticated", status: 401, message: "no secret" }),
    });
    const error = await localOperatorDesk(base, "x".repeat(43))
      .pending()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toContain("refused the credentials");
  });

  it("cleans remote text of terminal escape sequences before anyone prints it", async () => {
    answer = () => ({
      status: 200,
      body: JSON.stringify({
        approvals: [
          { id: ID, service: "hello\u001b]0;owned\u0007\u001b[2J", trigger: { actor: "a\rb" } },
        ],
      }),
    });
    const [approval] = await localOperatorDesk(base, "s".repeat(43)).pending();
    expect(approval?.service).toBe("hello");
    expect(approval?.trigger.actor).toBe("a\\u{000D}b");
  });
});

describe("the AWS operator desk", () => {
  it("signs every request with SigV4 for the lambda service in the Function URL's region", async () => {
    await awsOperatorDesk(base, async () => CREDENTIALS, "eu-west-1").pending();
    const [request] = seen;
    const authorization = String(request?.headers.authorization);
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    // The signature is the one AWS would compute for this request: sign it again and compare.
    const url = new URL(request?.url ?? "/", base);
    const resigned = await new SignatureV4({
      service: "lambda",
      region: "eu-west-1",
      credentials: CREDENTIALS,
      sha256: NodeSha,
    }).sign(
      {
        method: "GET",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: {},
        headers: {
          accept: "application/json",
          host: url.host,
        },
      },
      { signingDate: amzDate(String(request?.headers["x-amz-date"])) },
    );
    expect(resigned.headers.authorization).toBe(authorization);
  });

  it("signs the body too: a changed decision would not verify", async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ decision: {}, execution: {} }) });
    await awsOperatorDesk(base, async () => CREDENTIALS, "us-east-1").decide({
      approvalId: ID,
      action: "approve",
    });
    const [request] = seen;
    const signed = String(request?.headers.authorization);
    const url = new URL(request?.url ?? "/", base);
    const sign = (body: string) =>
      new SignatureV4({
        service: "lambda",
        region: "us-east-1",
        credentials: CREDENTIALS,
        sha256: NodeSha,
      })
        .sign(
          {
            method: "POST",
            protocol: "http:",
            hostname: url.hostname,
            port: Number(url.port),
            path: url.pathname,
            query: {},
            headers: {
              accept: "application/json",
              "content-type": "application/json",
              host: url.host,
            },
            body,
          },
          { signingDate: amzDate(String(request?.headers["x-amz-date"])) },
        )
        .then((r) => r.headers.authorization);
    expect(await sign(request?.body ?? "")).toBe(signed);
    expect(await sign(JSON.stringify({ action: "reject" }))).not.toBe(signed);
  });
});

describe("regionOfFunctionUrl", () => {
  it("reads the region from a Function URL, and nothing from other URLs", () => {
    expect(
      regionOfFunctionUrl("https://abcdefghij0123456789.lambda-url.eu-central-1.on.aws/"),
    ).toBe("eu-central-1");
    expect(regionOfFunctionUrl("https://evil.example/lambda-url.us-east-1.on.aws")).toBeUndefined();
    expect(regionOfFunctionUrl("not a url")).toBeUndefined();
  });
});

/** SigV4's x-amz-date (20261122T100000Z) as a Date. */
function amzDate(value: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) throw new Error(`not an x-amz-date: ${value}`);
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, se));
}

/** An independent SHA-256 for the re-signing side (Web Crypto, not the CLI's node:crypto one). */
class NodeSha {
  readonly #secret: Uint8Array | undefined;
  #chunks: Uint8Array[] = [];
  constructor(secret?: SourceData) {
    this.#secret =
      secret === undefined
        ? undefined
        : typeof secret === "string"
          ? new TextEncoder().encode(secret)
          : ArrayBuffer.isView(secret)
            ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
            : new Uint8Array(secret);
  }
  update(data: string | Uint8Array) {
    this.#chunks.push(typeof data === "string" ? new TextEncoder().encode(data) : data);
  }
  async digest(): Promise<Uint8Array> {
    const data = Buffer.concat(this.#chunks);
    if (!this.#secret) return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    const key = await crypto.subtle.importKey(
      "raw",
      Buffer.from(this.#secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
  }
  reset() {
    this.#chunks = [];
  }
}
