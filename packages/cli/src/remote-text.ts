import { deepMapStrings, terminalText } from "@gantry/core";

/**
 * Everything the CLI prints that came from elsewhere (execution histories, causes, approval
 * records, validation records) is remote text: a caller, a lower-trust writer or a compromised
 * function may have put escape sequences in it that would recolour the terminal, rewrite lines
 * already printed or set its title. It is cleaned once, where it enters the CLI: the SDK
 * clients' outputs (a middleware, see `guardClientOutput`) and JSON read by other means.
 */

/**
 * One remote string, cleaned: escape sequences removed, other control and invisible characters
 * shown escaped. A string holding a JSON document (a history event's input or output) is
 * parsed, cleaned field by field and written back, so it stays valid JSON.
 *
 * @example
 * ```ts
 * cleanRemoteString("boom\u001b[2K\rDeployed"); // "boom\\u{000D}Deployed"
 * ```
 */
export function cleanRemoteString(text: string): string {
  const first = text.trimStart()[0];
  if (first === "{" || first === "[") {
    try {
      return JSON.stringify(cleanRemote(JSON.parse(text) as unknown));
    } catch {
      // not JSON after all: clean it as text
    }
  }
  return terminalText(text, { multiline: true });
}

/** A remote value with every string in it cleaned (Dates and bytes pass through). */
export function cleanRemote<T>(value: T): T {
  return deepMapStrings(value, cleanRemoteString);
}

/** Parses remote JSON text and cleans it. */
export function parseRemoteJson<T = unknown>(text: string): T {
  return cleanRemote(JSON.parse(text) as T);
}

interface MiddlewareClient {
  readonly middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<{ output: unknown }>,
      ) => (args: unknown) => Promise<{ output: unknown }>,
      options: { step: "initialize"; name: string },
    ): void;
  };
}

/**
 * Cleans every string of every response of an SDK v3 client before the CLI sees it.
 *
 * @example
 * ```ts
 * const sfn = guardClientOutput(new SFNClient({}));
 * ```
 */
export function guardClientOutput<C>(client: C): C {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      return { ...result, output: cleanRemote(result.output) };
    },
    { step: "initialize", name: "gantryCleanRemoteText" },
  );
  return client;
}
