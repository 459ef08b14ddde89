// Where a provider's API key and base URL come from: the kernel secret a grant names, else the provider's usual
// variable in the kernel's environment; read in this one place. Keys never leave the kernel: not to a
// sandbox, the audit or an error.
import { WardenError } from "../../errors.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** The part of the kernel's secret store (runtime/secrets.ts) a model's key is read through. */
export interface SecretResolver {
  /** The value; USAGE naming the secret and its source, never a value, when it cannot be had. */
  resolve(name: string): Promise<string>;
}

/** Where keys may come from: the kernel's environment, and its secret store when the runtime has one. */
export interface KeySources {
  env: Env;
  secrets?: SecretResolver | undefined;
}

const KEY_VARIABLES = { openai: "OPENAI_API_KEY", anthropic: "ANTHROPIC_API_KEY" } as const;
const URL_VARIABLES = { openai: "OPENAI_BASE_URL", anthropic: "ANTHROPIC_BASE_URL" } as const;

export type RemoteProvider = keyof typeof KEY_VARIABLES;

/** The name of the variable that holds a provider's key, for messages that tell the operator what to set. */
export function keyVariable(provider: RemoteProvider): string {
  return KEY_VARIABLES[provider];
}

/**
 * The provider's API key: the secret `secret` when the grant names one (USAGE if it cannot be had: the grant
 * is refused when given, not at its first call), else the provider's variable, or undefined when unset.
 */
export async function providerKey(
  provider: RemoteProvider,
  secret: string | undefined,
  sources: KeySources,
): Promise<string | undefined> {
  if (secret !== undefined) {
    if (!sources.secrets)
      throw new WardenError(
        "USAGE",
        `the model grant takes its key from secret "${secret}", but this runtime defines no secrets`,
      );
    return sources.secrets.resolve(secret);
  }
  const key = sources.env[KEY_VARIABLES[provider]];
  return key === undefined || key === "" ? undefined : key;
}

/** The base URL a grant did not set itself: the SDKs' own variable, else the SDK's default. */
export function providerBaseURL(provider: RemoteProvider, env: Env): string | undefined {
  const url = env[URL_VARIABLES[provider]];
  return url === undefined || url === "" ? undefined : url;
}
