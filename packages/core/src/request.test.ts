import { describe, expect, it } from "vitest";
import { type FieldIssue, InvalidInput } from "./errors.ts";
import {
  MAX_ID_TOKEN_LENGTH,
  MAX_KEY_LENGTH,
  MAX_REQUEST_BYTES,
  parseDeploymentRequest,
} from "./request.ts";

const SHA = "0123456789abcdef".repeat(4);

function valid(): {
  service: string;
  version: string;
  artifact: { key: string; sha256: string };
  trigger: { actor: string; ciRunUrl?: string; idToken?: string };
} {
  return {
    service: "hello-service",
    version: "3f2a9c1",
    artifact: { key: "hello-service/3f2a9c1.zip", sha256: SHA },
    trigger: { actor: "octocat", ciRunUrl: "https://ci.example.com/runs/42" },
  };
}

/** The issues an input is refused with; fails the test if it is accepted or refused otherwise. */
function issuesOf(input: unknown): readonly FieldIssue[] {
  try {
    parseDeploymentRequest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInput);
    return (error as InvalidInput).issues;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

function withService(service: unknown) {
  return { ...valid(), service };
}
function withVersion(version: unknown) {
  return { ...valid(), version };
}
function withKey(key: unknown) {
  return { ...valid(), artifact: { ...valid().artifact, key } };
}
function withSha(sha256: unknown) {
  return { ...valid(), artifact: { ...valid().artifact, sha256 } };
}
function withActor(actor: unknown) {
  return { ...valid(), trigger: { ...valid().trigger, actor } };
}
function withCiRunUrl(ciRunUrl: unknown) {
  return { ...valid(), trigger: { ...valid().trigger, ciRunUrl } };
}

describe("parseDeploymentRequest", () => {
  it("returns a valid request as it was given", () => {
    expect(parseDeploymentRequest(valid())).toEqual(valid());
  });

  it("accepts a request without a CI run URL", () => {
    const { ciRunUrl: _omitted, ...trigger } = valid().trigger;
    const request = parseDeploymentRequest({ ...valid(), trigger });
    expect(request.trigger).toEqual({ actor: "octocat" });
  });

  it("throws InvalidInput whose message names the field and the reason", () => {
    expect(() => parseDeploymentRequest(withVersion("XYZ"))).toThrow(
      "version: must be a git commit SHA: 7 to 40 lowercase hex characters",
    );
  });

  describe("service", () => {
    it.each(["a", "hello-service", "svc2", `a${"b".repeat(39)}`])("accepts %j", (service) => {
      expect(parseDeploymentRequest(withService(service)).service).toBe(service);
    });

    it.each([
      "",
      "Hello",
      "1service",
      "-service",
      "hello_service",
      "hello service",
      "hello/service",
      `a${"b".repeat(40)}`,
    ])("refuses %j as not a service name", (service) => {
      expect(issuesOf(withService(service))).toEqual([
        {
          field: "service",
          reason: "must be a service name: lowercase letters, digits, dashes",
        },
      ]);
    });

    it("refuses a missing service as required", () => {
      const { service: _omitted, ...rest } = valid();
      expect(issuesOf(rest)).toEqual([{ field: "service", reason: "is required" }]);
    });

    it("refuses a service of the wrong type as the wrong type, not as missing", () => {
      expect(issuesOf(withService(5))).toEqual([{ field: "service", reason: "must be string" }]);
    });
  });

  describe("version", () => {
    it.each(["3f2a9c1", "0".repeat(40), "abcdef0123456789"])("accepts %j", (version) => {
      expect(parseDeploymentRequest(withVersion(version)).version).toBe(version);
    });

    it.each(["3f2a9c", "0".repeat(41), "3F2A9C1", "3f2a9cg", " 3f2a9c1", "3f2a9c1\n", ""])(
      "refuses %j",
      (version) => {
        expect(issuesOf(withVersion(version))).toEqual([
          {
            field: "version",
            reason: "must be a git commit SHA: 7 to 40 lowercase hex characters",
          },
        ]);
      },
    );
  });

  describe("artifact.sha256", () => {
    it.each([
      SHA.slice(1),
      `${SHA}0`,
      SHA.toUpperCase(),
      `${SHA.slice(0, 63)}g`,
      Buffer.from(SHA, "hex").toString("base64"),
    ])("refuses %j", (sha256) => {
      expect(issuesOf(withSha(sha256))).toEqual([
        {
          field: "artifact.sha256",
          reason: "must be a SHA-256 digest: 64 lowercase hex characters",
        },
      ]);
    });
  });

  describe("trigger.actor", () => {
    it.each([
      "octocat",
      "dependabot[bot]",
      "github-actions[bot]",
      "jane.doe@example.com",
      "ci+deploy",
      "a",
      `a${"b".repeat(99)}`,
    ])("accepts %j", (actor) => {
      expect(parseDeploymentRequest(withActor(actor)).trigger.actor).toBe(actor);
    });

    it.each([
      "",
      "[bot]",
      "-octocat",
      "octo cat",
      "<script>",
      "octo\u0000cat",
      "octo/cat",
      `a${"b".repeat(100)}`,
    ])("refuses %j", (actor) => {
      expect(issuesOf(withActor(actor))).toEqual([
        {
          field: "trigger.actor",
          reason: "must be 1 to 100 characters: letters, digits and . _ @ + [ ] -",
        },
      ]);
    });
  });

  describe("trigger.idToken", () => {
    const SHAPE = `must be an OIDC ID token: a compact JWS (three base64url parts separated by dots) of at most ${MAX_ID_TOKEN_LENGTH} characters`;
    const withToken = (idToken: unknown) => ({
      ...valid(),
      trigger: { ...valid().trigger, idToken },
    });

    it.each(["eyJh.eyJw.c2ln", "a-_b.c_-d.e", "a.b."])("accepts a compact JWS (%s)", (token) => {
      expect(parseDeploymentRequest(withToken(token)).trigger.idToken).toBe(token);
    });

    it("accepts a token of exactly the longest length", () => {
      const token = `a.${"b".repeat(MAX_ID_TOKEN_LENGTH - 4)}.c`;
      expect(parseDeploymentRequest(withToken(token)).trigger.idToken).toBe(token);
    });

    it.each([
      ["two parts", "a.b"],
      ["four parts", "a.b.c.d"],
      ["an empty header", ".b.c"],
      ["an empty payload", "a..c"],
      ["padding", "a.b.c="],
      ["standard base64", "a+b.c/d.e"],
      ["spaces", "a.b .c"],
      ["a newline", "a.b.c\n"],
      ["empty", ""],
      ["one character too long", `a.${"b".repeat(MAX_ID_TOKEN_LENGTH - 3)}.c`],
    ])("refuses a token with %s, without repeating it", (_, token) => {
      expect(issuesOf(withToken(token))).toEqual([{ field: "trigger.idToken", reason: SHAPE }]);
    });

    it("refuses a token that is not a string", () => {
      expect(issuesOf(withToken(42))).toEqual([
        { field: "trigger.idToken", reason: "must be string" },
      ]);
    });

    it("refuses verified claims from the caller as an unknown field", () => {
      const input = { ...valid(), trigger: { ...valid().trigger, verified: { actor: "x" } } };
      expect(issuesOf(input)).toEqual([
        { field: "trigger.verified", reason: "is not a known field" },
      ]);
    });
  });

  describe("trigger.ciRunUrl", () => {
    it.each([
      "https://ci.example.com/runs/42",
      "https://github.com/acme/hello/actions/runs/1?attempt=2",
      "http://127.0.0.1:8080/runs/1",
      "http://localhost:3000/runs/1",
    ])("accepts %j", (url) => {
      expect(parseDeploymentRequest(withCiRunUrl(url)).trigger.ciRunUrl).toBe(url);
    });

    it.each([
      "http://ci.example.com/runs/42",
      "http://localhost.evil.example/runs/1",
      "http://127.0.0.2/runs/1",
      "ftp://ci.example.com/runs/42",
      "javascript:alert(1)",
      "file:///etc/passwd",
    ])("refuses the non-https URL %j", (url) => {
      expect(issuesOf(withCiRunUrl(url))).toEqual([
        { field: "trigger.ciRunUrl", reason: "must be an https URL" },
      ]);
    });

    it.each([
      "https://user:secret@ci.example.com/runs/42",
      "https://token@ci.example.com/runs/42",
      "https://:secret@ci.example.com/runs/42",
    ])("refuses %j because it carries credentials", (url) => {
      expect(issuesOf(withCiRunUrl(url))).toEqual([
        { field: "trigger.ciRunUrl", reason: "must not carry credentials" },
      ]);
    });

    it.each(["ci.example.com/runs/42", "/runs/42", "", "https://"])(
      "refuses the relative or broken URL %j",
      (url) => {
        expect(issuesOf(withCiRunUrl(url))).toEqual([
          { field: "trigger.ciRunUrl", reason: "must be an absolute URL" },
        ]);
      },
    );

    it.each([
      [
        "a CR/LF with a forged Approve line",
        "https://ci.example.com/runs/1\r\nApprove: https://evil.example/x",
        "U+000D",
      ],
      ["a bare LF", "https://ci.example.com/runs/1\nReject: https://evil.example", "U+000A"],
      ["a tab", "https://ci.example.com/\truns/1", "U+0009"],
      ["a right-to-left override", "https://ci.example.com/runs/\u202e1", "U+202E"],
      ["a zero-width space", "https://ci.exa\u200bmple.com/runs/1", "U+200B"],
      ["an escape sequence", "https://ci.example.com/\u001b[2J", "U+001B"],
    ])("refuses %s, which the URL parser would silently drop", (_name, url, code) => {
      expect(issuesOf(withCiRunUrl(url))).toEqual([
        {
          field: "trigger.ciRunUrl",
          reason: `must not contain control or invisible characters (found ${code})`,
        },
      ]);
    });

    it("refuses spaces and other non-ASCII text (percent-encode it)", () => {
      for (const url of ["https://ci.example.com/runs 1", "https://ci.example.com/日本"]) {
        expect(issuesOf(withCiRunUrl(url))).toEqual([
          {
            field: "trigger.ciRunUrl",
            reason: "must be printable ASCII without spaces (percent-encode anything else)",
          },
        ]);
      }
    });

    it("refuses a URL longer than 2048 characters", () => {
      const url = `https://ci.example.com/${"a".repeat(2048)}`;
      expect(issuesOf(withCiRunUrl(url))).toContainEqual({
        field: "trigger.ciRunUrl",
        reason: "must be at most 2048 characters",
      });
    });
  });

  describe("artifact.key", () => {
    it.each(["hello-service/3f2a9c1.zip", "a.zip", "builds/billing/v1.2+build=3_final-x.zip"])(
      "accepts %j",
      (key) => {
        expect(parseDeploymentRequest(withKey(key)).artifact.key).toBe(key);
      },
    );

    it.each([
      ["../x.zip", "must not contain . or .. segments"],
      ["hello-service/../x.zip", "must not contain . or .. segments"],
      ["a/./b.zip", "must not contain . or .. segments"],
      ["/abs.zip", "must be relative (no leading slash)"],
      ["a//b.zip", "must not contain empty path segments"],
      ["a/b.zip/", "must not contain empty path segments"],
      ["a\\b.zip", "must not contain backslashes"],
      ["..\\x.zip", "must not contain backslashes"],
      ["%2e%2e/x.zip", "must not contain percent-encoding"],
      ["a%2Fb.zip", "must not contain percent-encoding"],
      ["", "must not be empty"],
      ["a/b", "must name a .zip file"],
      ["a/b.ZIP", "must name a .zip file"],
      ["a/b.zip.exe", "must name a .zip file"],
    ])("refuses %j: %s", (key, reason) => {
      expect(issuesOf(withKey(key))).toEqual([{ field: "artifact.key", reason }]);
    });

    it.each([
      "a/\u0000b.zip",
      "a/b\nc.zip",
      "a/b\rc.zip",
      "a/b\tc.zip",
      "a/b\u007fc.zip",
      "a/b c.zip",
      "a/.hidden.zip",
      "a/-flag.zip",
      "a/b\u2215c.zip",
    ])("refuses %j (control, space, unicode or leading punctuation in a segment)", (key) => {
      expect(issuesOf(withKey(key))).toEqual([
        {
          field: "artifact.key",
          reason:
            "segments must start with a letter or digit and use only letters, digits and . _ + = -",
        },
      ]);
    });

    it(`refuses a key longer than ${MAX_KEY_LENGTH} characters`, () => {
      const key = `${"a".repeat(MAX_KEY_LENGTH)}.zip`;
      expect(issuesOf(withKey(key))).toEqual([
        { field: "artifact.key", reason: `must be at most ${MAX_KEY_LENGTH} characters` },
      ]);
    });
  });

  describe("unknown fields", () => {
    it("refuses an unknown top-level field, naming it", () => {
      expect(issuesOf({ ...valid(), functionName: "prod-admin" })).toEqual([
        { field: "functionName", reason: "is not a known field" },
      ]);
    });

    it("refuses policy smuggled into the artifact, naming the nested field", () => {
      expect(issuesOf({ ...valid(), artifact: { ...valid().artifact, bucket: "evil" } })).toEqual([
        { field: "artifact.bucket", reason: "is not a known field" },
      ]);
    });

    it("refuses an unknown field in the trigger, naming the nested field", () => {
      expect(issuesOf({ ...valid(), trigger: { ...valid().trigger, approved: true } })).toEqual([
        { field: "trigger.approved", reason: "is not a known field" },
      ]);
    });

    it("names every unknown field at one level", () => {
      expect(issuesOf({ ...valid(), rollout: [], approvers: [] })).toEqual([
        { field: "rollout,approvers", reason: "is not a known field" },
      ]);
    });
  });

  describe("inputs that are not a request", () => {
    it.each([
      ["null", null, "null"],
      ["an array", [], "array"],
      ["a string", "hello-service", "string"],
      ["an empty string", "", "string"],
      ["a number", 42, "number"],
      ["zero", 0, "number"],
      ["false", false, "boolean"],
    ])("refuses %s as a whole, naming what it is", (_label, input, kind) => {
      expect(issuesOf(input)).toEqual([
        { field: "(input)", reason: `the input must be a JSON object, got ${kind}` },
      ]);
    });

    it("refuses a nested section of the wrong type as that type", () => {
      expect(issuesOf({ ...valid(), artifact: "hello-service/3f2a9c1.zip" })).toEqual([
        { field: "artifact", reason: "must be object" },
      ]);
    });

    it("refuses undefined as not JSON", () => {
      expect(issuesOf(undefined)).toEqual([{ field: "(input)", reason: "must be JSON" }]);
    });

    it("refuses a BigInt anywhere in the input as not JSON", () => {
      expect(issuesOf({ ...valid(), version: 10n })).toEqual([
        { field: "(input)", reason: "must be JSON" },
      ]);
    });

    it("refuses a circular input as not JSON", () => {
      const input: Record<string, unknown> = valid();
      input.self = input;
      expect(issuesOf(input)).toEqual([{ field: "(input)", reason: "must be JSON" }]);
    });

    it("refuses a function as not JSON", () => {
      expect(issuesOf(() => valid())).toEqual([{ field: "(input)", reason: "must be JSON" }]);
    });
  });

  describe("size", () => {
    it(`accepts a request of exactly ${MAX_REQUEST_BYTES} bytes of JSON`, () => {
      // Pad the request to the limit with a long (still valid) CI run URL.
      const base = valid();
      const padding = MAX_REQUEST_BYTES - Buffer.byteLength(JSON.stringify(base));
      const ciRunUrl = `${base.trigger.ciRunUrl}?p=${"x".repeat(padding - 3)}`;
      const input = { ...base, trigger: { ...base.trigger, ciRunUrl } };
      expect(Buffer.byteLength(JSON.stringify(input))).toBe(MAX_REQUEST_BYTES);
      expect(issuesOf({ ...input, extra: 1 })[0]?.field).toBe("(input)");
      // Over 2048 characters, so only the URL length rule refuses it: the size was accepted.
      expect(issuesOf(input)).toEqual([
        { field: "trigger.ciRunUrl", reason: "must be at most 2048 characters" },
      ]);
    });

    it("refuses oversized input before looking at its fields", () => {
      const input = {
        ...valid(),
        service: "NOT A SERVICE",
        padding: "x".repeat(MAX_REQUEST_BYTES),
      };
      const size = Buffer.byteLength(JSON.stringify(input));
      expect(issuesOf(input)).toEqual([
        {
          field: "(input)",
          reason: `must be at most ${MAX_REQUEST_BYTES} bytes, got ${size}`,
        },
      ]);
    });

    it("measures size in bytes, not characters", () => {
      // 4500 three-byte characters: 4500 characters but 13500 bytes.
      const input = { ...valid(), note: "€".repeat(4500) };
      const [issue] = issuesOf(input);
      expect(issue?.field).toBe("(input)");
      expect(issue?.reason).toMatch(/^must be at most 12288 bytes, got \d+$/);
    });

    it("fits the longest ID token with every other field at its limit", () => {
      const input = {
        ...valid(),
        version: "a".repeat(40),
        artifact: { ...valid().artifact, key: `hello-service/${"k".repeat(490)}.zip` },
        trigger: {
          actor: "a".repeat(100),
          ciRunUrl: `https://ci.example.com/${"r".repeat(2000)}`,
          idToken: `${"h".repeat(100)}.${"p".repeat(MAX_ID_TOKEN_LENGTH - 300)}.${"s".repeat(198)}`,
        },
      };
      expect(input.trigger.idToken).toHaveLength(MAX_ID_TOKEN_LENGTH);
      expect(parseDeploymentRequest(input).trigger.idToken).toBe(input.trigger.idToken);
    });
  });

  it("reports every problem together", () => {
    const input = {
      service: "Bad Service",
      version: "nope",
      artifact: { key: "../x.zip", sha256: "abc", bucket: "evil" },
      trigger: { actor: "", ciRunUrl: "http://ci.example.com/1" },
      extra: true,
    };
    const issues = issuesOf(input);
    expect(issues).toHaveLength(8);
    expect(issues).toEqual(
      expect.arrayContaining([
        { field: "service", reason: expect.stringContaining("service name") },
        { field: "version", reason: expect.stringContaining("git commit SHA") },
        { field: "artifact.key", reason: "must not contain . or .. segments" },
        { field: "artifact.sha256", reason: expect.stringContaining("SHA-256") },
        { field: "artifact.bucket", reason: "is not a known field" },
        { field: "trigger.actor", reason: expect.stringContaining("1 to 100 characters") },
        { field: "trigger.ciRunUrl", reason: "must be an https URL" },
        { field: "extra", reason: "is not a known field" },
      ]),
    );
  });
});
