import { describe, expect, it } from "vitest";
import type { StoredObjectMeta } from "../../world/object-meta.ts";
import { continuationToken, listPage, readContinuationToken } from "./listing.ts";

const meta = {} as StoredObjectMeta;
const objects = ["a/1", "a/2", "b", "c/x/1", "c/y", "d"].map((key) => ({ key, meta }));
const names = (page: ReturnType<typeof listPage>) =>
  page.entries.map((e) => (e.kind === "object" ? e.key : `${e.prefix} (prefix)`));

describe("listPage", () => {
  it("rolls keys up into common prefixes at the delimiter after the prefix", () => {
    const page = listPage(objects, { prefix: "", delimiter: "/", maxKeys: 1000 });
    expect(names(page)).toEqual(["a/ (prefix)", "b", "c/ (prefix)", "d"]);
    expect(page.truncated).toBe(false);
    expect(names(listPage(objects, { prefix: "c/", delimiter: "/", maxKeys: 1000 }))).toEqual([
      "c/x/ (prefix)",
      "c/y",
    ]);
  });

  it("pages with prefixes counting as entries, resuming after a prefix without repeating it", () => {
    const first = listPage(objects, { prefix: "", delimiter: "/", maxKeys: 2 });
    expect(names(first)).toEqual(["a/ (prefix)", "b"]);
    expect(first).toMatchObject({ truncated: true, last: "b" });
    const second = listPage(objects, { prefix: "", delimiter: "/", maxKeys: 1, after: "b" });
    expect(names(second)).toEqual(["c/ (prefix)"]);
    const third = listPage(objects, { prefix: "", delimiter: "/", maxKeys: 5, after: "c/" });
    expect(names(third)).toEqual(["d"]);
    expect(third.truncated).toBe(false);
  });

  it("starts after a key (start-after) and honours max-keys 0", () => {
    expect(names(listPage(objects, { prefix: "", after: "b", maxKeys: 2 }))).toEqual([
      "c/x/1",
      "c/y",
    ]);
    expect(listPage(objects, { prefix: "", maxKeys: 0 })).toEqual({
      entries: [],
      truncated: false,
    });
  });

  it("round-trips continuation tokens and refuses others", () => {
    expect(readContinuationToken(continuationToken("c/"))).toBe("c/");
    expect(() => readContinuationToken("bogus")).toThrow(
      expect.objectContaining({ code: "InvalidArgument" }),
    );
  });
});
