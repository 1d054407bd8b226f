/**
 * Text that reaches a person (an email, a page, a terminal) must read the way it is stored.
 * Control characters can forge lines (CR/LF), move a terminal's cursor or recolour it (ESC);
 * bidirectional overrides and zero-width characters make text look like something else
 * (`moc.elpmaxe` shown as `example.com`). Inputs refuse them; output escapes whatever is left.
 */

/**
 * C0 and C1 controls (tab and newline included: callers decide whether a line break is
 * allowed), DEL, the bidirectional controls, zero-width and invisible formatting characters,
 * the line and paragraph separators, and the byte-order mark.
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u001F\u007F-\u009F\u061C\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/u;
const UNSAFE_GLOBAL = new RegExp(UNSAFE.source, "gu");

/**
 * The first character of `text` that has no place in a single line shown to a person, as
 * `U+XXXX`; undefined when there is none.
 *
 * @example
 * ```ts
 * unsafeCharacter("https://ci.example.com/run/1"); // undefined
 * unsafeCharacter("https://ci.example.com/\r\nApprove: https://evil.example"); // "U+000D"
 * ```
 */
export function unsafeCharacter(text: string): string | undefined {
  const found = UNSAFE.exec(text)?.[0];
  return found === undefined ? undefined : codePoint(found);
}

/**
 * `text` with every unsafe character shown as a visible escape (`\u{202E}`), so nothing is
 * hidden and nothing is lost. Newlines are kept when `multiline` is set (comments), and tabs
 * become spaces.
 *
 * @example
 * ```ts
 * displayText("looks fine\u202Egnp.exe"); // "looks fine\\u{202E}gnp.exe"
 * ```
 */
export function displayText(text: string, options: { multiline?: boolean } = {}): string {
  return text.replace(UNSAFE_GLOBAL, (c) => {
    if (c === "\t") return " ";
    if (c === "\n" && options.multiline) return "\n";
    return `\\u{${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, "0")}}`;
  });
}

/**
 * Escape sequences a terminal acts on: CSI (`ESC [ ...`), OSC (`ESC ] ... BEL|ST`, which can
 * set the window title or write a hyperlink), DCS/SOS/PM/APC strings, and two-character
 * escapes; plus their 8-bit C1 forms.
 */
const TERMINAL_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control sequences is the point
  /(?:\u001B\[|\u009B)[0-?]*[ -/]*[@-~]?|(?:\u001B[\]PX^_]|[\u0090\u0098\u009D\u009E\u009F])[^\u0007\u001B\u009C]*(?:\u0007|\u001B\\|\u009C)?|\u001B[ -~]?/gu;

/**
 * Remote text made safe to print on a terminal: escape sequences removed, other unsafe
 * characters shown escaped (newlines kept when `multiline`).
 *
 * @example
 * ```ts
 * terminalText("ok\u001b]0;pwned\u0007\u001b[2J"); // "ok"
 * ```
 */
export function terminalText(text: string, options: { multiline?: boolean } = {}): string {
  return displayText(text.replace(TERMINAL_SEQUENCE, ""), options);
}

/**
 * A JSON-like value with every string in it passed through `clean`: for documents received
 * from elsewhere (history events, records) before any of it is shown.
 *
 * @example
 * ```ts
 * deepMapStrings({ cause: "a\u001b[31mred" }, terminalText); // { cause: "ared" }
 * ```
 */
export function deepMapStrings<T>(value: T, clean: (text: string) => string): T {
  if (typeof value === "string") return clean(value) as T;
  if (Array.isArray(value)) return value.map((item) => deepMapStrings(item, clean)) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[clean(key)] = deepMapStrings(item, clean);
    return out as T;
  }
  return value;
}

/** Plain objects only: a Date, a Uint8Array or a stream is passed through as it is. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, "0")}`;
}
