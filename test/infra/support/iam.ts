/**
 * IAM's wildcards in an ARN or an action, as policy evaluation reads them: `*` is any run of
 * characters (`/` and `:` included), `?` any one character, everything else itself.
 *
 * @example
 * ```ts
 * iamMatches("arn:aws:s3:::b/approvals/*.decision.json", "arn:aws:s3:::b/approvals/x.decision.json"); // true
 * ```
 */
export function iamMatches(pattern: string, value: string): boolean {
  const regex = [...pattern]
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/]/g, "\\$&")))
    .join("");
  return new RegExp(`^${regex}$`).test(value);
}
