// Domain to ASCII (UTS #46, nontransitional) for the URL parser, in place of the tr46 package (bundled by
// scripts/build-prelude.ts under its name). Runs inside sandboxes.
//
// tr46 carries Unicode's whole IDNA mapping table (about 210 KiB minified), which every sandbox would hold;
// this keeps its structure and approximates the table with the standard normalizations: ASCII is
// lowercased exactly as the table does; other text is mapped by NFKC and lowercasing; a code point is
// refused when it is a control, format (but for the joiners), private-use, unassigned, surrogate or space
// character. Bidi rules (RFC 5893) and the joiners' context rules are not checked: a joiner is refused.
// ASCII hosts, which are nearly every host a tool fetches, get exactly the standard's answer.
import { decode, encode } from "punycode/punycode.es6.js";

/** UTS #46 "ignored" code points: removed from a domain before anything else. */
// An alternation, not one class: the class would mix base and combining characters.
const IGNORED =
  /\u00ad|\u034f|[\u180b-\u180d]|\u180f|\u200b|\u2060|\u2064|[\ufe00-\ufe0f]|\ufeff|[\u{1bca0}-\u{1bca3}]|[\u{e0100}-\u{e01ef}]/gu;
/** Label separators UTS #46 maps to ".". */
const DOTS = /[\u3002\uff0e\uff61]/g;
const NON_ASCII = /[\u0080-\u{10ffff}]/u;
const REFUSED = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Z}]/u;
const LEADING_MARK = /^\p{M}/u;

interface Options {
  checkHyphens?: boolean;
  useSTD3ASCIIRules?: boolean;
  verifyDNSLength?: boolean;
  ignoreInvalidPunycode?: boolean;
}

function map(domain: string): string {
  const kept = domain.replace(IGNORED, "");
  if (!NON_ASCII.test(kept)) return kept.toLowerCase();
  return kept.normalize("NFKC").toLowerCase().normalize("NFKC").replace(DOTS, ".");
}

function validLabel(label: string, options: Options): boolean {
  if (label === "") return true;
  if (label.normalize("NFC") !== label) return false;
  if (options.checkHyphens) {
    if ((label[2] === "-" && label[3] === "-") || label.startsWith("-") || label.endsWith("-")) return false;
  } else if (label.startsWith("xn--")) return false;
  if (label.includes(".") || LEADING_MARK.test(label)) return false;
  for (const ch of label) {
    const code = ch.codePointAt(0)!;
    if (code > 0x7f && REFUSED.test(ch)) return false;
    if (options.useSTD3ASCIIRules && code <= 0x7f && !/^[a-z0-9-]$/.test(ch)) return false;
  }
  return true;
}

export function toASCII(domain: string, options: Options = {}): string | null {
  const labels = map(domain).normalize("NFC").split(".");
  let error = false;
  for (const [i, original] of labels.entries()) {
    let label = original;
    if (label.startsWith("xn--")) {
      if (NON_ASCII.test(label)) {
        error = true;
        break;
      }
      try {
        label = decode(label.slice(4));
      } catch {
        if (!options.ignoreInvalidPunycode) {
          error = true;
          break;
        }
      }
      if (label === "" || !NON_ASCII.test(label) || map(label) !== label) {
        error = true;
        break;
      }
    }
    if (!validLabel(label, options)) {
      error = true;
      break;
    }
    labels[i] = NON_ASCII.test(original) ? `xn--${encode(original)}` : original;
  }
  if (!error && options.verifyDNSLength) {
    const total = labels.join(".").length;
    if (total > 253 || total === 0 || labels.some((l) => l.length > 63 || l.length === 0)) error = true;
  }
  return error ? null : labels.join(".");
}

export function toUnicode(domain: string): { domain: string; error: boolean } {
  const labels = map(domain).split(".");
  let error = false;
  const out = labels.map((label) => {
    if (!label.startsWith("xn--")) return label;
    try {
      return decode(label.slice(4));
    } catch {
      error = true;
      return label;
    }
  });
  return { domain: out.join("."), error };
}
