import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DamagedFileError,
  Quarantine,
  readSealedJson,
  readSealedLine,
  sealedLine,
  sweepTempFiles,
  writeFileDurably,
  writeSealedJson,
} from "./durable-file.ts";

const home = () => mkdtempSync(join(tmpdir(), "gantry-durable-"));
const isCounter = (v: unknown): v is { n: number } =>
  typeof v === "object" && v !== null && typeof (v as { n?: unknown }).n === "number";

describe("durable files", () => {
  it("writes whole files, owner-only, leaving no temporary file behind", () => {
    const dir = home();
    const file = join(dir, "a", "b.json");
    writeFileDurably(file, "one");
    writeFileDurably(file, "two");
    expect(readFileSync(file, "utf8")).toBe("two");
    expect(readdirSync(join(dir, "a"))).toEqual(["b.json"]);
  });

  it("reads back a sealed document, and a bare JSON one written before checksums", () => {
    const dir = home();
    writeSealedJson(join(dir, "s.json"), { n: 1 });
    writeFileSync(join(dir, "bare.json"), JSON.stringify({ n: 2 }));
    expect(readSealedJson(join(dir, "s.json"), isCounter)).toEqual({ n: 1 });
    expect(readSealedJson(join(dir, "bare.json"), isCounter)).toEqual({ n: 2 });
  });

  it.each([
    ["torn", (text: string) => text.slice(0, text.length / 2), /not valid JSON/],
    ["garbled in place", (text: string) => text.replace('"n":1', '"n":7'), /checksum/],
    ["of another shape", () => JSON.stringify({ m: 1 }), /not the document expected/],
  ])("names a %s document as damaged", (_label, damage, reason) => {
    const dir = home();
    const file = join(dir, "s.json");
    writeSealedJson(file, { n: 1 });
    writeFileSync(file, damage(readFileSync(file, "utf8")));
    const error = (() => {
      try {
        readSealedJson(file, isCounter);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(DamagedFileError);
    expect((error as DamagedFileError).message).toMatch(reason);
  });

  it("tells a garbled history line from a good one, even when the garbled line still parses", () => {
    const event = { id: 1, type: "ExecutionStarted", input: `{"token":"${"a".repeat(64)}"}` };
    const line = sealedLine(event);
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(readSealedLine(line.trim())).toEqual(event);
    // Bytes changed inside a string: valid JSON still, but not what was written.
    const garbled = line.trim().replace("aaaa", "a\u00ffb");
    expect(() => JSON.parse(garbled)).not.toThrow();
    expect(readSealedLine(garbled)).toBeUndefined();
    expect(readSealedLine(line.trim().slice(0, 40))).toBeUndefined();
    // A bare line, written before histories carried checksums, is read as it is.
    expect(readSealedLine(JSON.stringify(event))).toEqual(event);
  });

  it("quarantines a damaged file: moved aside, never deleted, and reported", () => {
    const dir = home();
    const file = join(dir, "sfn", "x.json");
    mkdirSync(join(dir, "sfn"));
    writeFileSync(file, "garbage");
    const lines: string[] = [];
    const quarantine = new Quarantine(dir, (line) => lines.push(line));
    const damaged = quarantine.put(file, "not valid JSON");
    expect(existsSync(file)).toBe(false);
    expect(readFileSync(join(dir, damaged.quarantinedAs), "utf8")).toBe("garbage");
    expect(damaged.file).toBe(join("sfn", "x.json"));
    expect(quarantine.files).toEqual([damaged]);
    expect(lines.join("\n")).toContain("sfn/x.json");
  });

  it("sweeps the temporary files of torn writes, and nothing else", () => {
    const dir = home();
    mkdirSync(join(dir, "deep", "er"), { recursive: true });
    writeFileSync(join(dir, "deep", "er", "obj.json.0123abcd.tmp"), "");
    writeFileSync(join(dir, "keep.tmp"), "");
    writeFileSync(join(dir, "keep.json"), "");
    expect(sweepTempFiles(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(["deep", "keep.json", "keep.tmp"]);
  });
});
