import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { InvalidInput } from "../errors.ts";
import {
  hmacToken,
  strangerKey,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestIssuer,
  testIssuer,
  unsignedToken,
  verifiedTrigger,
} from "../testing/id-tokens.ts";
import { rejectionOf } from "../testing/rejection.ts";
import { ID_TOKEN_FIELD, oidcTokenVerifier } from "./verify.ts";

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await testIssuer();
});

const verifierFor = (overrides: { clockToleranceSeconds?: number } = {}) =>
  oidcTokenVerifier({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    jwks: issuer.jwks,
    ...overrides,
  });

/** The single issue an InvalidInput carries, checked to be on trigger.idToken. */
async function refusalOf(promise: Promise<unknown>): Promise<string> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(InvalidInput);
  const issues = (error as InvalidInput).issues;
  expect(issues).toHaveLength(1);
  expect(issues[0]?.field).toBe(ID_TOKEN_FIELD);
  return issues[0]?.reason ?? "";
}

const now = () => Math.floor(Date.now() / 1000);

describe("oidcTokenVerifier", () => {
  it("maps a valid token's claims to a VerifiedTrigger", async () => {
    const iat = now();
    const token = await issuer.mint({ iat, exp: iat + 300 });
    const verified = await verifierFor().verify(token);
    // GitHub's claims (githubClaims), every optional one included.
    expect(verified).toEqual(
      verifiedTrigger({
        repositoryId: "123456789",
        workflow: "release",
        workflowRef: "acme/hello-service/.github/workflows/release.yml@refs/heads/main",
        eventName: "push",
        environment: "prod",
        runId: "42",
        runAttempt: "1",
        issuedAt: new Date(iat * 1000).toISOString(),
        expiresAt: new Date((iat + 300) * 1000).toISOString(),
      }),
    );
  });

  it("leaves optional claims out when the token lacks them, and turns numeric ids to text", async () => {
    const token = await issuer.mint({
      repository_id: 987,
      workflow: "",
      workflow_ref: undefined,
      event_name: undefined,
      environment: undefined,
      run_attempt: 2.5,
      run_id: "",
    });
    const verified = await verifierFor().verify(token);
    expect(verified.repositoryId).toBe("987");
    for (const key of [
      "workflow",
      "workflowRef",
      "eventName",
      "environment",
      "runId",
      "runAttempt",
    ])
      expect(Object.keys(verified)).not.toContain(key);
  });

  it("refuses an expired token, saying when it expired", async () => {
    const exp = now() - 3600;
    const token = await issuer.mint({ iat: exp - 300, nbf: exp - 300, exp });
    expect(await refusalOf(verifierFor().verify(token))).toBe(
      `the ID token expired at ${new Date(exp * 1000).toISOString()}`,
    );
  });

  it("accepts a token expired within the clock tolerance, and not beyond it", async () => {
    const exp = now() - 30;
    const token = await issuer.mint({ iat: exp - 300, nbf: exp - 300, exp });
    await expect(verifierFor().verify(token)).resolves.toMatchObject({ actor: "octocat" });
    expect(await refusalOf(verifierFor({ clockToleranceSeconds: 0 }).verify(token))).toContain(
      "expired at",
    );
  });

  it.each(["nbf", "iat"])("refuses a token whose %s is in the future", async (claim) => {
    const future = now() + 3600;
    const token = await issuer.mint({ [claim]: future, exp: future + 300 });
    expect(await refusalOf(verifierFor().verify(token))).toBe(
      `the ID token is not valid yet (${claim} ${new Date(future * 1000).toISOString()})`,
    );
  });

  it("refuses a token for another audience, naming the expected one", async () => {
    const token = await issuer.mint({ aud: "gantry-preprod" });
    expect(await refusalOf(verifierFor().verify(token))).toBe(
      "the ID token was issued for another audience (expected gantry-prod)",
    );
  });

  it("refuses a token from another issuer, naming the expected one", async () => {
    const token = await issuer.mint({ iss: "https://evil.example.com" });
    expect(await refusalOf(verifierFor().verify(token))).toBe(
      `the ID token was issued by another issuer (expected ${TEST_ISSUER})`,
    );
  });

  it("refuses a token signed by another key under the issuer's key id", async () => {
    const token = await issuer.mint({}, { signer: await strangerKey() });
    expect(await refusalOf(verifierFor().verify(token))).toBe(
      "the ID token has a signature that does not verify against the issuer's keys",
    );
  });

  it("refuses a token signed by a key the issuer does not publish", async () => {
    const token = await issuer.mint({}, { signer: await strangerKey(), kid: "other" });
    expect(await refusalOf(verifierFor().verify(token))).toBe(
      "the ID token is signed by a key the issuer does not publish",
    );
  });

  it("refuses HS256 and none, accepting RS256 only", async () => {
    expect(await refusalOf(verifierFor().verify(await hmacToken()))).toBe(
      "the ID token is signed with HS256; only RS256 is accepted",
    );
    expect(await refusalOf(verifierFor().verify(unsignedToken()))).toBe(
      "the ID token is signed with none; only RS256 is accepted",
    );
  });

  it.each(["RS256 <script>", "<b>HS256", "A".repeat(21)])(
    "never echoes an odd alg header (%s)",
    async (alg) => {
      const header = Buffer.from(JSON.stringify({ alg })).toString("base64url");
      const token = `${header}.${Buffer.from("{}").toString("base64url")}.c2ln`;
      expect(await refusalOf(verifierFor().verify(token))).toBe(
        "the ID token is signed with another algorithm; only RS256 is accepted",
      );
    },
  );

  it.each(["not-a-jwt", "a.b.c", ""])("refuses a malformed token (%j)", async (token) => {
    expect(await refusalOf(verifierFor().verify(token))).toBe(
      "the ID token is malformed (not a signed JWT)",
    );
  });

  it.each(["repository", "ref", "sha", "actor", "sub"])(
    "refuses a token without the %s claim",
    async (claim) => {
      const token = await issuer.mint({ [claim]: undefined });
      expect(await refusalOf(verifierFor().verify(token))).toBe(
        `the ID token has no "${claim}" claim`,
      );
    },
  );

  it.each([
    ["repository", 7],
    ["actor", ""],
    ["sha", ["x"]],
    ["ref", ""],
    ["sub", 7],
  ])("refuses a token whose %s claim is %j", async (claim, value) => {
    const token = await issuer.mint({ [claim]: value });
    expect(await refusalOf(verifierFor().verify(token))).toBe(
      `the ID token's "${claim}" claim is empty or not text`,
    );
  });

  it("refuses a token whose exp is not a number", async () => {
    const token = await issuer.mint({ exp: "tomorrow" });
    expect(await refusalOf(verifierFor().verify(token))).toBe(
      'the ID token has an invalid "exp" claim',
    );
  });

  it("refuses a token that needs a header extension nobody here understands", async () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const token = `${part({ alg: "RS256", crit: ["x-gantry"], "x-gantry": 1 })}.${part({})}.c2ln`;
    expect(await refusalOf(verifierFor().verify(token))).toBe(
      "the ID token uses a feature that is not supported",
    );
  });

  it("accepts a token issued up to the clock tolerance ahead, and not a second more", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const iat = 1_800_000_000;
      const token = await issuer.mint({ iat, nbf: iat, exp: iat + 300 });
      vi.setSystemTime((iat - 60) * 1000);
      await expect(verifierFor().verify(token)).resolves.toMatchObject({ actor: "octocat" });
      vi.setSystemTime((iat - 61) * 1000);
      expect(await refusalOf(verifierFor().verify(token))).toBe(
        `the ID token is not valid yet (nbf ${new Date(iat * 1000).toISOString()})`,
      );
      const noNbf = await issuer.mint({ iat, nbf: undefined, exp: iat + 300 });
      expect(await refusalOf(verifierFor().verify(noNbf))).toBe(
        `the ID token is not valid yet (iat ${new Date(iat * 1000).toISOString()})`,
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it("never puts the token in its error", async () => {
    const token = await issuer.mint({ aud: "elsewhere" });
    const error = await rejectionOf(verifierFor().verify(token));
    expect(`${error.message}${error.stack}`).not.toContain(token.split(".")[1]);
  });
});

describe("oidcTokenVerifier discovery", () => {
  const DISCOVERY = "https://issuer.example.com/.well-known/openid-configuration";
  const JWKS = "https://issuer.example.com/.well-known/jwks";

  function fakeFetch(
    answers: Record<string, () => Response | Promise<Response>>,
  ): ReturnType<typeof vi.fn> & ((url: string, init: RequestInit) => Promise<Response>) {
    return vi.fn(async (url: string) => {
      const answer = answers[String(url)];
      if (!answer) throw new TypeError(`fetch failed for ${url}`);
      return answer();
    }) as never;
  }
  const json = (value: unknown, status = 200) => new Response(JSON.stringify(value), { status });
  const discoveryVerifier = (fetchImpl: (url: string, init: RequestInit) => Promise<Response>) =>
    oidcTokenVerifier({
      issuer: "https://issuer.example.com/",
      audience: TEST_AUDIENCE,
      fetchImpl,
    });

  it("finds the keys through the discovery document and fetches them once", async () => {
    const fetchImpl = fakeFetch({
      [DISCOVERY]: () => json({ issuer: "https://issuer.example.com", jwks_uri: JWKS }),
      [JWKS]: () => json(issuer.publicJwks),
    });
    const verifier = discoveryVerifier(fetchImpl);
    const token = await issuer.mint({ iss: "https://issuer.example.com/" });
    await expect(verifier.verify(token)).resolves.toMatchObject({ actor: "octocat" });
    await expect(verifier.verify(token)).resolves.toMatchObject({ actor: "octocat" });
    expect(fetchImpl.mock.calls.map(([url]) => String(url))).toEqual([DISCOVERY, JWKS]);
    // Not followed to another host, and bounded in time.
    expect(fetchImpl.mock.calls[0]?.[1]).toEqual({
      method: "GET",
      redirect: "manual",
      signal: expect.any(AbortSignal),
    });
  });

  it("reports an unreachable issuer as TransientError, and asks again next time", async () => {
    let up = false;
    const fetchImpl = vi.fn(async (url: string) => {
      if (!up) throw new TypeError("fetch failed");
      return String(url) === DISCOVERY ? json({ jwks_uri: JWKS }) : json(issuer.publicJwks);
    });
    const verifier = discoveryVerifier(fetchImpl as never);
    const token = await issuer.mint({ iss: "https://issuer.example.com/" });
    const error = await rejectionOf(verifier.verify(token));
    expect(error.name).toBe("TransientError");
    expect(error.message).toBe(
      "cannot reach the OIDC issuer https://issuer.example.com/: fetch failed",
    );
    up = true;
    await expect(verifier.verify(token)).resolves.toMatchObject({ actor: "octocat" });
  });

  it("names a fetch failure that is not an Error", async () => {
    const verifier = discoveryVerifier(vi.fn(async () => Promise.reject("offline")) as never);
    const error = await rejectionOf(verifier.verify(await issuer.mint()));
    expect(error.message).toBe("cannot reach the OIDC issuer https://issuer.example.com/: offline");
  });

  it.each([
    [503, "TransientError", "the OIDC issuer https://issuer.example.com/ answered 503"],
    [500, "TransientError", "the OIDC issuer https://issuer.example.com/ answered 500"],
    [499, "ConfigurationError", "has no discovery document (499"],
    [429, "TransientError", "the OIDC issuer https://issuer.example.com/ answered 429"],
    [404, "ConfigurationError", "has no discovery document (404"],
  ])("reports a discovery answer %i as %s", async (status, name, message) => {
    const verifier = discoveryVerifier(fakeFetch({ [DISCOVERY]: () => json({}, status) }));
    const error = await rejectionOf(verifier.verify(await issuer.mint()));
    expect(error.name).toBe(name);
    expect(error.message).toContain(message);
  });

  it.each([
    ["not JSON", () => new Response("<html>"), "discovery document is not JSON"],
    ["no jwks_uri", () => json({}), "discovery document has no jwks_uri"],
    ["null", () => json(null), "discovery document has no jwks_uri"],
    [
      "a jwks_uri that is not text",
      () => json({ jwks_uri: 42 }),
      "discovery document has no jwks_uri",
    ],
    ["a jwks_uri that is not a URL", () => json({ jwks_uri: "/keys" }), "jwks_uri is not a URL"],
    [
      "keys on another origin",
      () => json({ jwks_uri: "https://keys.evil.example.com/jwks" }),
      "publishes its keys at https://keys.evil.example.com, not on its own origin",
    ],
  ])("refuses a discovery document with %s as ConfigurationError", async (_, answer, message) => {
    const verifier = discoveryVerifier(fakeFetch({ [DISCOVERY]: answer }));
    const error = await rejectionOf(verifier.verify(await issuer.mint()));
    expect(error.name).toBe("ConfigurationError");
    expect(error.message).toContain(message);
  });

  it("refuses a malformed, HS256 or unsigned token without asking the issuer", async () => {
    const fetchImpl = fakeFetch({});
    const verifier = discoveryVerifier(fetchImpl);
    for (const token of ["a.b.c", await hmacToken(), unsignedToken()]) {
      expect((await rejectionOf(verifier.verify(token))).name).toBe("InvalidInput");
    }
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it("reports a key set that cannot be fetched as TransientError", async () => {
    const verifier = discoveryVerifier(
      fakeFetch({
        [DISCOVERY]: () => json({ jwks_uri: JWKS }),
        [JWKS]: () => json({}, 502),
      }),
    );
    const error = await rejectionOf(
      verifier.verify(await issuer.mint({ iss: "https://issuer.example.com/" })),
    );
    expect(error.name).toBe("TransientError");
    expect(error.message).toContain("cannot fetch the OIDC issuer's keys");
  });

  it("reports a network failure fetching the key set as TransientError", async () => {
    const verifier = discoveryVerifier(fakeFetch({ [DISCOVERY]: () => json({ jwks_uri: JWKS }) }));
    const error = await rejectionOf(
      verifier.verify(await issuer.mint({ iss: "https://issuer.example.com/" })),
    );
    expect(error.name).toBe("TransientError");
    expect(error.message).toBe(`cannot fetch the OIDC issuer's keys: fetch failed for ${JWKS}`);
  });

  describe("with the global fetch", () => {
    afterEach(() => {
      vi.unstubAllGlobals();
    });

    it("shares an issuer's keys between verifiers (a warm Lambda), and forgets a failure", async () => {
      const ISSUER = "https://shared.example.com";
      let up = false;
      const fetch = vi.fn(async (url: string | URL) => {
        if (!up) throw new TypeError("fetch failed");
        return String(url).endsWith("/openid-configuration")
          ? json({ jwks_uri: `${ISSUER}/keys` })
          : json(issuer.publicJwks);
      });
      vi.stubGlobal("fetch", fetch);
      const token = await issuer.mint({ iss: ISSUER });
      const verifier = () => oidcTokenVerifier({ issuer: ISSUER, audience: TEST_AUDIENCE });
      expect((await rejectionOf(verifier().verify(token))).name).toBe("TransientError");
      up = true;
      await expect(verifier().verify(token)).resolves.toMatchObject({ issuer: ISSUER });
      await expect(verifier().verify(token)).resolves.toMatchObject({ issuer: ISSUER });
      expect(fetch.mock.calls.map(([url]) => String(url))).toEqual([
        `${ISSUER}/.well-known/openid-configuration`,
        `${ISSUER}/.well-known/openid-configuration`,
        `${ISSUER}/keys`,
      ]);
    });

    it("keeps one issuer's keys apart from another's", async () => {
      const fetch = vi.fn(async (url: string | URL) => {
        const origin = new URL(String(url)).origin;
        return String(url).endsWith("/openid-configuration")
          ? json({ jwks_uri: `${origin}/keys` })
          : json(origin === "https://one.example.com" ? issuer.publicJwks : { keys: [] });
      });
      vi.stubGlobal("fetch", fetch);
      const one = oidcTokenVerifier({ issuer: "https://one.example.com", audience: TEST_AUDIENCE });
      const two = oidcTokenVerifier({ issuer: "https://two.example.com", audience: TEST_AUDIENCE });
      await expect(
        one.verify(await issuer.mint({ iss: "https://one.example.com" })),
      ).resolves.toMatchObject({ actor: "octocat" });
      expect(
        await refusalOf(two.verify(await issuer.mint({ iss: "https://two.example.com" }))),
      ).toBe("the ID token is signed by a key the issuer does not publish");
    });
  });
});
