import type { Registry } from "../registry.ts";

/**
 * The principal of the local control plane's operator: whoever presents GANTRY_HOME's
 * operator secret (readable by the local user only).
 */
export const LOCAL_OPERATOR = "local";

/**
 * The approvers an authenticated principal may decide as, from the registry's `operators`:
 * IAM principal ARNs match exactly (no wildcards: a pattern would let whoever picks a session
 * name pick an identity), and {@link LOCAL_OPERATOR} matches approvers marked `local`.
 *
 * @example
 * ```ts
 * approversActingAs(registry.operators, "arn:aws:iam::111122223333:user/alice"); // ["alice@example.com"]
 * ```
 */
export function approversActingAs(
  operators: Registry["operators"],
  principal: string,
): readonly string[] {
  if (!operators || principal === "") return [];
  return Object.entries(operators)
    .filter(([, identities]) =>
      principal === LOCAL_OPERATOR
        ? identities.local === true
        : // Stryker disable next-line ArrayDeclaration: the mutant's one placeholder entry matches no real principal
          (identities.iam ?? []).includes(principal),
    )
    .map(([email]) => email);
}
