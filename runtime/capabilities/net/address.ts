// Classifies IP addresses for the net kind's SSRF policy: which ones a granted name may connect to.
import { isIPv4, isIPv6 } from "node:net";

/** "public" is the only class a name may resolve to; the rest need a grant that names the address itself. */
export type AddressClass =
  | "public"
  | "loopback"
  | "unspecified"
  | "private"
  | "link-local"
  | "shared"
  | "multicast"
  | "reserved"
  | "documentation"
  | "benchmarking"
  | "ietf";

/** Classes no grant can make a destination: they are not one host, or they mean "this host" in disguise. */
const NEVER_DESTINATIONS: ReadonlySet<AddressClass> = new Set(["unspecified", "multicast", "reserved"]);

export interface ParsedAddress {
  /** Canonical text, safe to hand to a socket: dotted quad or lower-case IPv6 without a zone. */
  address: string;
  family: 4 | 6;
  /** 4 or 16 bytes. */
  bytes: Uint8Array;
}

interface Range {
  base: readonly number[];
  prefix: number;
  cls: AddressClass;
}

// First match wins, so narrower ranges come before the ones that contain them.
const IPV4_RANGES: readonly Range[] = [
  { base: [0, 0, 0, 0], prefix: 8, cls: "unspecified" },
  { base: [10, 0, 0, 0], prefix: 8, cls: "private" },
  { base: [100, 64, 0, 0], prefix: 10, cls: "shared" },
  { base: [127, 0, 0, 0], prefix: 8, cls: "loopback" },
  { base: [169, 254, 0, 0], prefix: 16, cls: "link-local" },
  { base: [172, 16, 0, 0], prefix: 12, cls: "private" },
  { base: [192, 0, 0, 0], prefix: 24, cls: "ietf" },
  { base: [192, 0, 2, 0], prefix: 24, cls: "documentation" },
  { base: [192, 88, 99, 0], prefix: 24, cls: "reserved" },
  { base: [192, 168, 0, 0], prefix: 16, cls: "private" },
  { base: [198, 18, 0, 0], prefix: 15, cls: "benchmarking" },
  { base: [198, 51, 100, 0], prefix: 24, cls: "documentation" },
  { base: [203, 0, 113, 0], prefix: 24, cls: "documentation" },
  { base: [224, 0, 0, 0], prefix: 4, cls: "multicast" },
  { base: [240, 0, 0, 0], prefix: 4, cls: "reserved" },
];

// Inside 2000::/3 (global unicast); everything outside it that embeds no IPv4 is refused outright.
const IPV6_GLOBAL_EXCEPTIONS: readonly Range[] = [
  { base: [0x20, 0x01, 0x0d, 0xb8], prefix: 32, cls: "documentation" },
  // 2001::/23 holds Teredo (whose embedded IPv4 is obfuscated), ORCHID and benchmarking: no fetch needs them.
  { base: [0x20, 0x01, 0x00, 0x00], prefix: 23, cls: "ietf" },
  { base: [0x3f, 0xff], prefix: 20, cls: "documentation" },
];

function inRange(bytes: Uint8Array, range: Range): boolean {
  for (let bit = 0; bit < range.prefix; bit += 8) {
    const take = Math.min(8, range.prefix - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    const index = bit / 8;
    if (((bytes[index] ?? 0) & mask) !== ((range.base[index] ?? 0) & mask)) return false;
  }
  return true;
}

function classifyIPv4(bytes: Uint8Array): AddressClass {
  return IPV4_RANGES.find((range) => inRange(bytes, range))?.cls ?? "public";
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  return bytes.subarray(from, to).every((byte) => byte === 0);
}

/** The IPv4 address an IPv6 form carries, for the forms that route to it, so none can dodge an IPv4 rule. */
function embeddedIPv4(bytes: Uint8Array): Uint8Array | undefined {
  const head10Zero = allZero(bytes, 0, 10);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated but still accepted by some stacks).
  if (head10Zero && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.subarray(12, 16);
  if (head10Zero && bytes[10] === 0 && bytes[11] === 0) return bytes.subarray(12, 16);
  // ::ffff:0:a.b.c.d (SIIT translated).
  if (allZero(bytes, 0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && allZero(bytes, 10, 12)) {
    return bytes.subarray(12, 16);
  }
  // 64:ff9b::/96, the well-known NAT64 prefix.
  if (inRange(bytes, { base: [0, 0x64, 0xff, 0x9b], prefix: 32, cls: "public" }) && allZero(bytes, 4, 12)) {
    return bytes.subarray(12, 16);
  }
  // 2002::/16, 6to4: the relay delivers to the IPv4 address in bits 16..48.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.subarray(2, 6);
  return undefined;
}

function classifyIPv6(bytes: Uint8Array): AddressClass {
  if (allZero(bytes, 0, 16)) return "unspecified";
  if (allZero(bytes, 0, 15) && bytes[15] === 1) return "loopback";
  const embedded = embeddedIPv4(bytes);
  if (embedded) return classifyIPv4(embedded);
  const first = bytes[0] ?? 0;
  if ((first & 0xe0) === 0x20) {
    return IPV6_GLOBAL_EXCEPTIONS.find((range) => inRange(bytes, range))?.cls ?? "public";
  }
  if ((first & 0xfe) === 0xfc) return "private";
  if (first === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80) return "link-local";
  // fec0::/10 site-local is deprecated but still means "inside this site".
  if (first === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0xc0) return "private";
  if (first === 0xff) return "multicast";
  return "reserved";
}

function parseIPv4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split(".").map(Number));
}

function parseIPv6Bytes(text: string): Uint8Array {
  let body = text;
  const lastColon = body.lastIndexOf(":");
  const last = body.slice(lastColon + 1);
  if (last.includes(".")) {
    // Rewrite a dotted IPv4 tail as its two hex groups so one grouping rule parses the rest.
    const [a = 0, b = 0, c = 0, d = 0] = parseIPv4Bytes(last);
    body = `${body.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", rest] = body.split("::");
  const toGroups = (part: string): number[] =>
    part === "" ? [] : part.split(":").map((g) => parseInt(g, 16));
  const headGroups = toGroups(head);
  const restGroups = rest === undefined ? [] : toGroups(rest);
  const fill = 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...new Array<number>(fill).fill(0), ...restGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}

function formatIPv6(bytes: Uint8Array): string {
  // The WHATWG serialiser already produces the canonical compressed form (RFC 5952).
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/**
 * Parses an address as a resolver or URL may spell it: dotted quad, IPv6 with or without brackets, and the
 * legacy IPv4 spellings WHATWG URL accepts (127.1, 0x7f.1, 2130706433). Anything else is not an address.
 * IPv6 zone ids are refused: a scoped address is link-local by definition.
 */
export function parseAddress(raw: string): ParsedAddress | undefined {
  let text = raw.trim();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  if (isIPv6(text) && !text.includes("%")) {
    const bytes = parseIPv6Bytes(text.toLowerCase());
    return { address: formatIPv6(bytes), family: 6, bytes };
  }
  if (!isIPv4(text)) {
    // Only digits, dots and hex may reach the URL parser, or "evil@127.0.0.1" would parse as an address.
    if (!/^[0-9a-fA-FxX.]+$/.test(text)) return undefined;
    try {
      text = new URL(`http://${text}/`).hostname;
    } catch {
      return undefined;
    }
    if (!isIPv4(text)) return undefined;
  }
  return { address: text, family: 4, bytes: parseIPv4Bytes(text) };
}

export function classifyAddress(address: ParsedAddress): AddressClass {
  return address.family === 4 ? classifyIPv4(address.bytes) : classifyIPv6(address.bytes);
}

function sameAddress(a: ParsedAddress, b: ParsedAddress): boolean {
  return a.family === b.family && a.bytes.every((byte, i) => byte === b.bytes[i]);
}

/** What the granted host itself permits: a name, `localhost`, or an IP literal the operator wrote out. */
export type HostPolicy =
  | { kind: "name" }
  | { kind: "localhost" }
  | { kind: "literal"; address: ParsedAddress };

export function hostPolicy(hostname: string): HostPolicy {
  const literal = parseAddress(hostname);
  if (literal) return { kind: "literal", address: literal };
  if (hostname === "localhost") return { kind: "localhost" };
  return { kind: "name" };
}

/** Whether a socket may connect to `address` for a URL whose (granted) host has `policy`. */
export function addressAllowed(address: ParsedAddress, policy: HostPolicy): boolean {
  const cls = classifyAddress(address);
  if (cls === "public") return true;
  if (NEVER_DESTINATIONS.has(cls)) return false;
  if (policy.kind === "localhost") return cls === "loopback";
  if (policy.kind === "literal") return sameAddress(address, policy.address);
  return false;
}

/** Classes a grant may not name even as a literal, with the reason, for spec errors. */
export function neverDestination(address: ParsedAddress): AddressClass | undefined {
  const cls = classifyAddress(address);
  return NEVER_DESTINATIONS.has(cls) ? cls : undefined;
}
