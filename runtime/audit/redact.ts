// Redaction of audit text: whatever a summary or reason says, no URL credentials, query or token survives.

// Any scheme://… run of non-space text, up to a comma that starts the next URL (grant specs list origins
// that way); the URL parser decides what of it is safe to keep. The text comes from guests, so the match
// must be linear: a scheme is at most 32 characters (an unbounded one rescanned a long run such as
// "a.a.a.…" from every word start, quadratic in its length), and it may start anywhere, so a scheme glued to
// longer text ("xxx…https://") still starts a URL at its last 32 characters.
const SCHEME = "[a-z][a-z0-9+.-]{0,31}:\\/\\/";
const URL_TEXT = new RegExp(`${SCHEME}(?:(?!,${SCHEME})[^\\s"'<>\`])+`, "gi");
// Credentials a message might quote outside a URL ("Authorization: Bearer …", "token=…").
const SECRET_PAIR =
  /\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|token|secret|password|passwd)(\s*[:=]\s*)(?:(?:bearer|basic|token)\s+)?[^\s,;"']+/gi;

function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not a URL after all: keep the scheme, drop the rest, since it may hold credentials.
    return `${text.slice(0, text.indexOf("://") + 3)}[redacted]`;
  }
  // Origin and path only: userinfo, query strings and fragments are where tokens live.
  const userinfo = url.username !== "" || url.password !== "" ? "[redacted]@" : "";
  const query = url.search !== "" ? "?[redacted]" : "";
  const fragment = url.hash !== "" ? "#[redacted]" : "";
  const origin = url.origin === "null" ? `${url.protocol}//${url.host}` : url.origin;
  const withUser = userinfo === "" ? origin : origin.replace("://", `://${userinfo}`);
  // An origin written without a path stays as written (grant specs name bare origins).
  const path = url.pathname === "/" && !text.slice(text.indexOf("://") + 3).includes("/") ? "" : url.pathname;
  return `${withUser}${path}${query}${fragment}`;
}

/** Text fit for the audit log: URLs cut to origin and path, credential-looking pairs masked. */
export function redact(text: string): string {
  return text.replace(URL_TEXT, redactUrl).replace(SECRET_PAIR, "$1$2[redacted]");
}
