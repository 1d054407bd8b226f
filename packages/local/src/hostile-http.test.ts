/**
 * The local control plane's two servers against clients that misbehave: malformed HTTP, bodies
 * far over the limit, a client that aborts mid-body, handlers that throw. Every one gets an
 * answer in the shape it expects (Step Functions' JSON, S3's XML, text on the web server), and
 * the plane stays up.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ListStateMachinesCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { defineRegistry } from "@gantry/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type LocalControlPlane, startLocalControlPlane } from "./local-control-plane.ts";
import { localWebRoutes } from "./web/routes.ts";

const BUCKET = "hostile-artifacts-preprod";

let home: string;
let local: LocalControlPlane;
let sfn: SFNClient;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "gantry-hostile-http-"));
  const stage = (functionName: string) => ({
    functionName,
    alias: "live",
    alarms: [],
    rollout: { steps: [50], stepWaitSeconds: 1, pollSeconds: 1, bakeSeconds: 1 },
    verifyPreprod: false,
  });
  local = await startLocalControlPlane({
    home,
    registry: defineRegistry({
      stages: {
        preprod: { sourceBucket: BUCKET, artifactBucket: BUCKET },
        prod: { sourceBucket: BUCKET, artifactBucket: "hostile-artifacts-prod" },
      },
      services: {
        "hello-service": {
          canary: { checks: [{ name: "ping", event: {}, expect: { statusCode: 200 } }] },
          stages: { preprod: stage("hello-preprod"), prod: stage("hello-prod") },
        },
      },
    }),
    sfnPort: 0,
    webPort: 0,
    timeScale: 0.001,
    trafficPerSecond: 0,
    canaryIntervalMs: 0,
    functionLogLevel: "SILENT",
    webRoutes: [
      async (req) => {
        if (req.url !== "/boom") return false;
        throw new Error("a web handler broke");
      },
      async (req, res: ServerResponse) => {
        if (req.url !== "/half") return false;
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("half an answer");
        throw new Error("a web handler broke after its headers");
      },
      ...localWebRoutes(),
    ],
  });
  sfn = new SFNClient({
    endpoint: local.sfnEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}, 60_000);

afterAll(async () => {
  await local?.close();
  rmSync(home, { recursive: true, force: true });
});

/** Sends raw bytes and returns everything the server answered before it closed. */
function raw(endpoint: string, ...writes: string[]): Promise<string> {
  const { port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      answer += chunk;
    });
    socket.on("end", () => resolve(answer));
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
    socket.setTimeout(5000, () => {
      socket.destroy();
      resolve(answer);
    });
    socket.on("connect", () => {
      for (const data of writes) socket.write(data);
    });
  });
}

async function stillUp(): Promise<void> {
  for (const endpoint of [local.sfnEndpoint, local.webEndpoint]) {
    const health = await fetch(`${endpoint}/health`);
    expect(health.status).toBe(200);
  }
  expect((await sfn.send(new ListStateMachinesCommand({}))).stateMachines).toHaveLength(2);
}

describe("malformed HTTP", () => {
  it.each([
    ["garbage", "this is not HTTP\r\n\r\n"],
    ["a bad request line", "GET / HTTP/9.9 extra\r\n\r\n"],
    [
      "a header without a colon",
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nbroken header\r\n\r\n",
    ],
    ["a bad Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"],
    [
      "Content-Length twice, different",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ],
    ["a NUL in a header", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\u0000b\r\n\r\n"],
  ])("answers %s with a 400 and a body on both servers, and stays up", async (_what, request) => {
    const aws = await raw(local.sfnEndpoint, request);
    expect(aws).toMatch(/^HTTP\/1\.1 400 /);
    expect(aws).toContain("MalformedHttpRequestException");
    const web = await raw(local.webEndpoint, request);
    expect(web).toMatch(/^HTTP\/1\.1 400 /);
    expect(web).toContain("not valid HTTP");
    await stillUp();
  });

  it("answers headers that are too large with a 431", async () => {
    const answer = await raw(
      local.sfnEndpoint,
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    await stillUp();
  });
});

describe("clients that abort mid-body", () => {
  it("contains the aborted request and keeps serving", async () => {
    const { port } = new URL(local.sfnEndpoint);
    for (const target of ["AWSStepFunctions.StartExecution", undefined]) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), "127.0.0.1", () => {
          socket.write(
            `${target ? "POST /" : `PUT /${BUCKET}/aborted`} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${target ? `X-Amz-Target: ${target}\r\n` : ""}Content-Length: 100000\r\n\r\n{"stateMachineArn":`,
          );
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 50);
        });
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    await stillUp();
  });
});

describe("bodies over the limit are answered, not reset", () => {
  const tenMegabytes = JSON.stringify({ pad: "x".repeat(10 * 1024 * 1024) });

  it("answers the SDK's 10 MB StartExecution with 413 RequestEntityTooLargeException", async () => {
    const error = await sfn
      .send(
        new StartExecutionCommand({
          stateMachineArn: local.stateMachineArns.prod,
          input: tenMegabytes,
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e as { name: string; $metadata?: { httpStatusCode?: number } },
      );
    expect(error?.name).toBe("RequestEntityTooLargeException");
    expect(error?.$metadata?.httpStatusCode).toBe(413);
    await stillUp();
  });

  it.skipIf(!existsSync("/usr/bin/aws"))(
    "answers the AWS CLI's 10 MB start-execution with RequestEntityTooLargeException",
    async () => {
      const file = join(home, "big-input.json");
      writeFileSync(file, tenMegabytes);
      const failure = await promisify(execFile)(
        "/usr/bin/aws",
        [
          "stepfunctions",
          "start-execution",
          "--state-machine-arn",
          local.stateMachineArns.prod,
          "--input",
          `file://${file}`,
          "--endpoint-url",
          local.sfnEndpoint,
          "--region",
          "us-east-1",
          "--cli-read-timeout",
          "20",
        ],
        {
          env: {
            PATH: process.env.PATH ?? "",
            HOME: home,
            AWS_ACCESS_KEY_ID: "local",
            AWS_SECRET_ACCESS_KEY: "local",
            AWS_MAX_ATTEMPTS: "1",
            AWS_PAGER: "",
          },
          maxBuffer: 1024 * 1024,
        },
      ).then(
        () => "",
        (error: { stderr?: string }) => error.stderr ?? "",
      );
      expect(failure).toContain("RequestEntityTooLargeException");
      expect(failure).not.toMatch(/reset|aborted|Connection was closed/i);
    },
    60_000,
  );

  it.each([
    ["an approval page", "/approvals/00000000-0000-4000-8000-000000000000"],
    ["the operator API", "/operator/approvals/00000000-0000-4000-8000-000000000000/decision"],
  ])("answers a 10 MB POST to %s with a 413 and a body", async (_what, path) => {
    const response = await fetch(`${local.webEndpoint}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Bearer ${local.operatorSecret}`,
      },
      body: `decision=approve&pad=${"x".repeat(10 * 1024 * 1024)}`,
    });
    expect(response.status).toBe(413);
    expect((await response.text()).length).toBeGreaterThan(0);
    await stillUp();
  });
});

describe("handlers that throw", () => {
  it("answers the web server's failure with a 500 and a text body, and logs it", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const response = await fetch(`${local.webEndpoint}/boom`);
      expect(response.status).toBe(500);
      expect(response.headers.get("content-type")).toContain("text/plain");
      expect(await response.text()).toContain("Internal error");
      expect(logged.mock.calls.flat().join(" ")).toContain("a web handler broke");
      // Headers already sent: the connection is cut, and the server carries on.
      await expect(fetch(`${local.webEndpoint}/half`).then((r) => r.text())).rejects.toThrow();
      await stillUp();
    } finally {
      logged.mockRestore();
    }
  });

  it("answers a failing Step Functions operation with InternalFailure (JSON, 500), and logs it", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const original = local.stepFunctions.listStateMachinesPage;
    local.stepFunctions.listStateMachinesPage = () => {
      throw new TypeError("the listing broke");
    };
    try {
      const error = await sfn.send(new ListStateMachinesCommand({})).then(
        () => undefined,
        (e: unknown) => e as { name: string; $metadata?: { httpStatusCode?: number } },
      );
      expect(error?.name).toBe("InternalFailure");
      expect(error?.$metadata?.httpStatusCode).toBe(500);
      expect(logged.mock.calls.flat().join(" ")).toContain("the listing broke");
    } finally {
      local.stepFunctions.listStateMachinesPage = original;
      logged.mockRestore();
    }
    await stillUp();
  });
});
