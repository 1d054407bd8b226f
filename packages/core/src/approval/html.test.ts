import { describe, expect, it } from "vitest";
import { escapeHtml, html, SafeHtml } from "./html.ts";

describe("escapeHtml", () => {
  it("escapes the five characters that matter in text and attributes", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
  });

  it("escapes an ampersand that already looks like an entity", () => {
    expect(escapeHtml("&amp;")).toBe("&amp;amp;");
  });

  it("leaves other text alone", () => {
    expect(escapeHtml("hello → 100% ✓")).toBe("hello → 100% ✓");
  });
});

describe("html", () => {
  it("escapes every interpolated string", () => {
    const name = `<script>alert("x")</script>`;
    expect(html`<p>${name}</p>`.value).toBe(
      "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>",
    );
  });

  it("escapes quotes so a value cannot leave an attribute", () => {
    const url = `https://x.example.com/" onmouseover="alert(1)`;
    expect(html`<a href="${url}">go</a>`.value).toBe(
      '<a href="https://x.example.com/&quot; onmouseover=&quot;alert(1)">go</a>',
    );
  });

  it("does not escape the literal template text", () => {
    expect(html`<b>${"x"}</b><i>&nbsp;</i>`.value).toBe("<b>x</b><i>&nbsp;</i>");
  });

  it("inserts nested html as it is, without escaping it twice", () => {
    const inner = html`<em>${"a & b"}</em>`;
    expect(html`<p>${inner}</p>`.value).toBe("<p><em>a &amp; b</em></p>");
  });

  it("renders arrays item by item, escaping strings and keeping nested html", () => {
    const rows = ["<x>", "y"].map((v) => html`<li>${v}</li>`);
    expect(html`<ul>${rows}</ul>`.value).toBe("<ul><li>&lt;x&gt;</li><li>y</li></ul>");
    expect(html`${["<", [">", html`<br>`]]}`.value).toBe("&lt;&gt;<br>");
  });

  it("renders numbers as text and undefined or null as nothing", () => {
    expect(html`<p>${42}|${undefined}|${null}|${0}</p>`.value).toBe("<p>42|||0</p>");
  });

  it("returns SafeHtml whose string form is its value", () => {
    const out = html`<p>${"&"}</p>`;
    expect(out).toBeInstanceOf(SafeHtml);
    expect(String(out)).toBe("<p>&amp;</p>");
    expect(`${out}`).toBe(out.value);
  });

  it("trusts only real SafeHtml instances, not look-alike objects", () => {
    const lookAlike = { value: "<script>", toString: () => "<script>" } as unknown as SafeHtml;
    expect(html`${lookAlike}`.value).toBe("&lt;script&gt;");
  });
});
