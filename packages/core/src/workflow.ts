import type { WorkflowFunctionKey } from "./function-catalog.ts";

/**
 * The ASL names each function its Tasks call as a `${<Key>FunctionArn}` placeholder, the key
 * being the function's Task key in the catalogue (`WORKFLOW_FUNCTIONS`, function-catalog.ts).
 */
const PLACEHOLDER = /\$\{([A-Za-z]+)FunctionArn\}/g;

/**
 * Replaces every `${<Key>FunctionArn}` in the ASL text. Throws on a placeholder without an ARN
 * or an ARN that no placeholder uses, so a renamed function cannot slip through.
 *
 * @example
 * ```ts
 * const definition = substituteFunctionArns(aslText, arns);
 * ```
 */
export function substituteFunctionArns(
  aslText: string,
  arns: Readonly<Record<WorkflowFunctionKey, string>>,
): string {
  const used = new Set<string>();
  const text = aslText.replace(PLACEHOLDER, (_match, key: string) => {
    const arn = (arns as Record<string, string | undefined>)[key];
    if (!arn) throw new TypeError(`no ARN for placeholder \${${key}FunctionArn}`);
    used.add(key);
    return arn;
  });
  const unused = Object.keys(arns).filter((key) => !used.has(key));
  if (unused.length > 0)
    throw new TypeError(`ARNs given for functions the ASL does not use: ${unused.join(", ")}`);
  return text;
}
