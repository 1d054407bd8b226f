import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deepMapStrings, displayText, terminalText, unsafeCharacter } from "./text.ts";

describe("unsafeCharacter", () => {
  it.each([
    ["CR", "a\rb", "U+000D"],
    ["LF", "a\nb", "U+000A"],
    ["ESC", "a\u001b[31mb", "U+001B"],
    ["DEL", "a\u007fb", "U+007F"],
    ["a C1 control", "a\u009bb", "U+009B"],
    ["right-to-left override", "moc.elpmaxe\u202e", "U+202E"],
    ["right-to-left isolate", "a\u2067b", "U+2067"],
    ["zero-width space", "exa\u200bmple.com", "U+200B"],
    ["zero-width joiner", "a\u200db", "U+200D"],
    ["line separator", "a\u2028b", "U+2028"],
    ["byte-order mark", "\ufeffa", "U+FEFF"],
    ["Arabic letter mark", "a\u061cb", "U+061C"],
  ])("finds a %s", (_name, text, code) => {
    expect(unsafeCharacter(text)).toBe(code);
  });

  it("passes plain text, accents and other scripts", () => {
    expect(unsafeCharacter("https://ci.example.com/run/1?x=ä&y=日本")).toBeUndefined();
    expect(unsafeCharacter("Zoë approved — “ship it”")).toBeUndefined();
  });
});

describe("displayText", () => {
  it("shows every unsafe character as a visible escape and keeps the rest", () => {
    expect(displayText("fine\u202Etxt.exe")).toBe("fine\\u{202E}txt.exe");
    expect(displayText("a\r\nApprove: https://evil.example")).toBe(
      "a\\u{000D}\\u{000A}Approve: https://evil.example",
    );
    expect(displayText("tab\there")).toBe("tab here");
  });

  it("keeps newlines only when asked (comments)", () => {
    expect(displayText("one\ntwo", { multiline: true })).toBe("one\ntwo");
    expect(displayText("one\r\ntwo", { multiline: true })).toBe("one\\u{000D}\ntwo");
  });

  it("never leaves an unsafe character, whatever the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        expect(unsafeCharacter(displayText(text))).toBeUndefined();
      }),
    );
  });
});

describe("terminalText", () => {
  it.each([
    ["a colour", "ok\u001b[31mred\u001b[0m", "okred"],
    ["erasing the screen", "a\u001b[2J\u001b[Hb", "ab"],
    ["setting the window title (OSC, BEL)", "ok\u001b]0;pwned\u0007", "ok"],
    [
      "a hyperlink (OSC 8, ST)",
      "\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\",
      "click",
    ],
    ["an 8-bit CSI", "a\u009b31mb", "ab"],
    ["a device control string", "a\u001bPq#0;2;0;0;0\u001b\\b", "ab"],
  ])("removes %s", (_name, text, expected) => {
    expect(terminalText(text)).toBe(expected);
  });

  it("shows a carriage return (which would overwrite a line) instead of obeying it", () => {
    expect(terminalText("Rolled back\rDeployed   ")).toBe("Rolled back\\u{000D}Deployed   ");
  });

  it("never lets an ESC or a C1 control through, whatever the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const cleaned = terminalText(text, { multiline: true });
        expect([...cleaned].some((c) => c === "\u001b" || (c >= "\u0080" && c <= "\u009f"))).toBe(
          false,
        );
      }),
    );
  });
});

describe("deepMapStrings", () => {
  it("cleans strings at any depth, keys included, and leaves other values alone", () => {
    const when = new Date(0);
    const cleaned = deepMapStrings(
      { a: ["x\u001b[1m", { "k\u202e": "v\r" }], n: 1, b: true, z: null, when },
      (s) => terminalText(s),
    );
    expect(cleaned).toEqual({
      a: ["x", { "k\\u{202E}": "v\\u{000D}" }],
      n: 1,
      b: true,
      z: null,
      when,
    });
    expect(cleaned.when).toBe(when);
  });
});
