/**
 * The little XML the S3 subset reads and writes: escaping for the documents it sends, and a
 * small, strict parser for the two request bodies it accepts (CompleteMultipartUpload and
 * Delete). No DTDs, no entities beyond XML's own, no external anything.
 */
export function escapeXml(text: string): string {
  let out = "";
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (c === "<") out += "&lt;";
    else if (c === ">") out += "&gt;";
    else if (c === "&") out += "&amp;";
    else if (c === '"') out += "&quot;";
    else if (c === "'") out += "&apos;";
    // Control characters (tab and line feed aside) as character references, so they survive.
    else if (code < 0x20 && c !== "\t" && c !== "\n") out += `&#${code};`;
    else out += c;
  }
  return out;
}

/** `<Name>value</Name>`, escaped; nothing when the value is undefined. */
export function element(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? "" : `<${name}>${escapeXml(String(value))}</${name}>`;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  text: string;
}

export class XmlError extends Error {}

const TOKEN =
  /<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)|(<)/g;

/** Parses a document into elements (local names, namespaces dropped), or throws XmlError. */
export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: "#document", children: [], text: "" };
  const stack: XmlElement[] = [root];
  for (const match of text.matchAll(TOKEN)) {
    const [whole, cdata, closing, name, , selfClosing, chars, stray] = match;
    const top = stack.at(-1) as XmlElement;
    if (stray !== undefined || whole.startsWith("<!DOCTYPE") || whole.startsWith("<!ENTITY"))
      throw new XmlError("unexpected markup");
    if (whole.startsWith("<?") || whole.startsWith("<!--")) continue;
    if (cdata !== undefined) {
      top.text += cdata;
      continue;
    }
    if (chars !== undefined) {
      if (stack.length === 1) {
        if (chars.trim() !== "") throw new XmlError("text outside the root element");
        continue;
      }
      top.text += decodeEntities(chars);
      continue;
    }
    const local = (name ?? "").replace(/^[\w.-]+:/, "");
    if (closing) {
      if (stack.length === 1 || top.name !== local) throw new XmlError(`unexpected </${name}>`);
      stack.pop();
      continue;
    }
    if (stack.length === 1 && root.children.length > 0) throw new XmlError("two root elements");
    const node: XmlElement = { name: local, children: [], text: "" };
    top.children.push(node);
    if (!selfClosing) stack.push(node);
  }
  if (stack.length !== 1 || root.children.length !== 1) throw new XmlError("unbalanced document");
  return root.children[0] as XmlElement;
}

function decodeEntities(text: string): string {
  return text.replace(
    /&(#x[0-9A-Fa-f]+|#\d+|lt|gt|amp|quot|apos);|&/g,
    (whole, entity?: string) => {
      if (entity === undefined) throw new XmlError("a bare & in text");
      switch (entity) {
        case "lt":
          return "<";
        case "gt":
          return ">";
        case "amp":
          return "&";
        case "quot":
          return '"';
        case "apos":
          return "'";
        default: {
          const code = entity.startsWith("#x")
            ? Number.parseInt(entity.slice(2), 16)
            : Number.parseInt(entity.slice(1), 10);
          if (!Number.isInteger(code) || code < 0 || code > 0x10ffff)
            throw new XmlError(`bad character reference ${whole}`);
          return String.fromCodePoint(code);
        }
      }
    },
  );
}

/** The children of an element with this name. */
export function childrenNamed(node: XmlElement, name: string): XmlElement[] {
  return node.children.filter((c) => c.name === name);
}

/** The text of the one child with this name, or undefined (XmlError if there are several). */
export function childText(node: XmlElement, name: string): string | undefined {
  const found = childrenNamed(node, name);
  if (found.length > 1) throw new XmlError(`more than one ${name}`);
  return found[0]?.text;
}
