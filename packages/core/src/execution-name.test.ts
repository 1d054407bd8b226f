import { describe, expect, it } from "vitest";
import { executionName } from "./execution-name.ts";

const request = {
  service: "hello-service",
  version: "3f2a9c1e0b7d4a5f6e8c9b0a1d2e3f4a5b6c7d8e",
  artifact: { key: "hello-service/3f2a9c1e0b7d.zip", sha256: `ab12cd34${"0".repeat(56)}` },
};

describe("executionName", () => {
  it("joins the service, 12 characters of the version and 8 of the SHA-256", () => {
    expect(executionName(request)).toBe("hello-service-3f2a9c1e0b7d-ab12cd34");
  });

  it("is deterministic: the same request always gives the same name", () => {
    expect(executionName({ ...request, artifact: { ...request.artifact } })).toBe(
      executionName(request),
    );
  });

  it("differs when the bytes differ for the same version", () => {
    const other = { ...request, artifact: { ...request.artifact, sha256: "f".repeat(64) } };
    expect(executionName(other)).not.toBe(executionName(request));
  });

  it("keeps a short version whole", () => {
    expect(executionName({ ...request, version: "3f2a9c1" })).toBe(
      "hello-service-3f2a9c1-ab12cd34",
    );
  });

  it("adds no suffix for attempt 1 and -r<n> for later attempts", () => {
    expect(executionName(request, 1)).toBe(executionName(request));
    expect(executionName(request, 2)).toBe("hello-service-3f2a9c1e0b7d-ab12cd34-r2");
    expect(executionName(request, 999)).toBe("hello-service-3f2a9c1e0b7d-ab12cd34-r999");
  });

  it.each([0, -1, 1000, 1.5, Number.NaN])("refuses attempt %d", (attempt) => {
    expect(() => executionName(request, attempt)).toThrow(
      new RangeError("attempt must be an integer from 1 to 999"),
    );
  });
});
