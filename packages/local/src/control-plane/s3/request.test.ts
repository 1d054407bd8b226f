import { describe, expect, it } from "vitest";
import { parseTarget } from "./request.ts";

describe("parseTarget (path-style)", () => {
  it("splits bucket, key and query; decodes the key as a whole, never normalizes it", () => {
    expect(parseTarget("/b/a%2Fb/../c%20d?list-type=2&prefix=x")).toMatchObject({
      bucket: "b",
      key: "a/b/../c d",
      resource: "/b/a/b/../c d",
    });
    expect(parseTarget("/b?uploads").query.has("uploads")).toBe(true);
    expect(parseTarget("/b/").key).toBe("");
    expect(parseTarget("/").bucket).toBe("");
  });

  it("answers a bad percent-encoding with InvalidURI", () => {
    expect(() => parseTarget("/b/%zz")).toThrow(expect.objectContaining({ code: "InvalidURI" }));
  });
});
