import { SfnApiError } from "./errors.ts";

/** Largest execution input accepted, as in AWS (256 KiB). */
export const MAX_INPUT_BYTES = 262_144;

/**
 * Deepest nesting of arrays and objects accepted in an input. The engine, the history and the
 * console all walk documents recursively: past about 3,000 levels they run out of stack (a
 * RangeError thrown where no caller can catch it). 1,000 is the default nesting limit of the
 * JSON parser AWS's Java services use (Jackson), and leaves the engine a wide margin.
 */
export const MAX_INPUT_DEPTH = 1000;

/**
 * StartExecution's input, parsed, or InvalidExecutionInput, decided before anything is stored:
 * an input that is refused leaves no trace, and one that is accepted can be recorded and run.
 *
 * @example
 * ```ts
 * const input = parseExecutionInput(request.input); // throws SfnApiError("InvalidExecutionInput", ...)
 * ```
 */
export function parseExecutionInput(inputText: unknown): unknown {
  if (typeof inputText !== "string" || Buffer.byteLength(inputText) > MAX_INPUT_BYTES)
    throw invalid("must be a JSON string of at most 256 KiB");
  const depth = nestingDepth(inputText);
  if (depth > MAX_INPUT_DEPTH)
    throw invalid(`it nests ${depth} levels deep, more than the ${MAX_INPUT_DEPTH} allowed`);
  let input: unknown;
  try {
    input = JSON.parse(inputText);
  } catch {
    throw invalid("the input is not valid JSON");
  }
  try {
    JSON.stringify(input);
  } catch (error) {
    throw invalid(`it cannot be recorded (${error instanceof Error ? error.message : error})`);
  }
  return input;
}

function invalid(reason: string): SfnApiError {
  return new SfnApiError(
    "InvalidExecutionInput",
    `Invalid State Machine Execution Input: ${reason}`,
  );
}

/** How deep arrays and objects nest in a JSON text, without parsing it (no recursion). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
