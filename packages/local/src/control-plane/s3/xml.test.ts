import { describe, expect, it } from "vitest";
import { childrenNamed, childText, escapeXml, parseXml, XmlError } from "./xml.ts";

describe("xml", () => {
  it("escapes what XML needs escaped, control characters included", () => {
    expect(escapeXml(`<a href="x">&'\r\u0001`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&#13;&#1;",
    );
  });

  it("parses a CompleteMultipartUpload body with a namespace, entities and comments", () => {
    const root = parseXml(`<?xml version="1.0" encoding="UTF-8"?>
      <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
        <!-- two parts -->
        <Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part>
        <Part><PartNumber>2</PartNumber><ETag>"b"</ETag><ChecksumCRC32>AAAA&#65;&#x41;==</ChecksumCRC32></Part>
      </CompleteMultipartUpload>`);
    expect(root.name).toBe("CompleteMultipartUpload");
    const parts = childrenNamed(root, "Part");
    expect(parts.map((p) => childText(p, "ETag"))).toEqual(['"a"', '"b"']);
    expect(childText(parts[1] as never, "ChecksumCRC32")).toBe("AAAAAA==");
  });

  it.each([
    "<a><b></a>",
    "<a></a><b></b>",
    "text",
    "<a>&bogus;</a>",
    '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    "<a>1 < 2</a>",
    "",
  ])("refuses %j", (text) => {
    expect(() => parseXml(text)).toThrow(XmlError);
  });
});
