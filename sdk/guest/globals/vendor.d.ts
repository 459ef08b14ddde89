// Types for the packages the guest runtime bundles that ship none of their own.
declare module "punycode/punycode.es6.js" {
  export function decode(input: string): string;
  export function encode(input: string): string;
}
declare module "whatwg-url" {
  export const URL: unknown;
  export const URLSearchParams: unknown;
}
