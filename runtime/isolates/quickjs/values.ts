// Reading guest values on the host without trusting them: an exception's text, and what a host-level
// exception out of the instance means.
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten";

const MAX_TEXT = 2000;

function ownText(context: QuickJSContext, value: QuickJSHandle, key: string): string | undefined {
  const prop = context.getProp(value, key);
  const text = context.typeof(prop) === "string" ? context.getString(prop) : undefined;
  prop.dispose();
  return text;
}

/**
 * "Name: message" of a guest exception, or the text of a thrown primitive. Reading `name` and `message`
 * may run guest getters, so callers do this inside a guarded section.
 */
export function guestText(context: QuickJSContext, value: QuickJSHandle): string {
  const type = context.typeof(value);
  if (type === "object") {
    const message = ownText(context, value, "message") ?? "";
    const name = ownText(context, value, "name");
    return (name ? `${name}: ${message}` : message).slice(0, MAX_TEXT);
  }
  if (type === "string") return context.getString(value).slice(0, MAX_TEXT);
  if (type === "number" || type === "boolean" || type === "undefined") return String(context.dump(value));
  return `a thrown ${type}`;
}

/** V8's stack guard stopped the instance: the guest recursed through a builtin faster than QuickJS counted. */
export function stackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}
