/**
 * Minimal safe HTML templating for emails and approval pages: every interpolated value is
 * escaped unless it is itself the result of `html`.
 *
 * @example
 * ```ts
 * import { html } from "@gantry/core";
 * const name = "<script>";
 * String(html`<p>${name}</p>`); // "<p>&lt;script&gt;</p>"
 * ```
 */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

type Interpolation = SafeHtml | string | number | undefined | null | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === undefined || value === null) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  // A tagged template always has one more string than values: the `?? ""` fallbacks only satisfy
  // noUncheckedIndexedAccess and are unreachable.
  // Stryker disable next-line StringLiteral: unreachable fallback (see above)
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    // Stryker disable next-line StringLiteral: unreachable fallback (see above)
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}
