// Where a provider's API key and base URL come from: the kernel's environment, read in this one place so the
// secrets mechanism for grants can replace it. Keys never leave the kernel: not to a sandbox, the audit or an error.

export type Env = Readonly<Record<string, string | undefined>>;

const KEY_VARIABLES = { openai: "OPENAI_API_KEY", anthropic: "ANTHROPIC_API_KEY" } as const;
const URL_VARIABLES = { openai: "OPENAI_BASE_URL", anthropic: "ANTHROPIC_BASE_URL" } as const;

export type RemoteProvider = keyof typeof KEY_VARIABLES;

/** The name of the variable that holds a provider's key, for messages that tell the operator what to set. */
export function keyVariable(provider: RemoteProvider): string {
  return KEY_VARIABLES[provider];
}

/** The provider's API key, or undefined when none is set. */
export function providerKey(provider: RemoteProvider, env: Env): string | undefined {
  const key = env[KEY_VARIABLES[provider]];
  return key === undefined || key === "" ? undefined : key;
}

/** The base URL a grant did not set itself: the SDKs' own variable, else the SDK's default. */
export function providerBaseURL(provider: RemoteProvider, env: Env): string | undefined {
  const url = env[URL_VARIABLES[provider]];
  return url === undefined || url === "" ? undefined : url;
}
