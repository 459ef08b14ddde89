// The entry of the URL bundle (scripts/build-prelude.ts): whatwg-url with idna.ts in place of tr46. Built
// to a separate script that the prelude carries as text and evaluates on first use (url.ts).
export { URL, URLSearchParams } from "whatwg-url";
