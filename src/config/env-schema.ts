/**
 * The environment variables the proxy reads, as a TypeBox schema: validation errors then carry
 * the variable's own name, and the README's env table is checked against this list.
 * Names come first from the Flask proxy we replace, so its users change nothing.
 */
import { Type, type Static } from "@sinclair/typebox";
import { API_VERSION_HINT, API_VERSION_PATTERN } from "./api-version.ts";

const endpoint = {
  pattern: "^https?://\\S+$",
  hint: "an http(s) URL such as https://myres.openai.azure.com",
};

export const EnvSchema = Type.Object({
  AZURE_OPENAI_ENDPOINT: Type.Optional(Type.String({ ...endpoint, description: "Azure resource base URL (upstream)." })),
  AZURE_ENDPOINT: Type.Optional(Type.String({ ...endpoint, description: "Alias of AZURE_OPENAI_ENDPOINT (the Flask proxy's name)." })),
  AZURE_OPENAI_API_KEY: Type.Optional(Type.String({ minLength: 1, secret: true, description: "Azure key, sent upstream as `api-key`." })),
  AZURE_OPENAI_API_VERSION: Type.Optional(
    Type.String({ pattern: API_VERSION_PATTERN, hint: API_VERSION_HINT, description: "A date selects the dated API; v1, preview or unset the v1 API." }),
  ),
  AZURE_OPENAI_MODEL_MAP: Type.Optional(
    Type.String({
      pattern: "^\\s*[^=,\\s]+\\s*=\\s*[^=,\\s]+\\s*(,\\s*[^=,\\s]+\\s*=\\s*[^=,\\s]+\\s*)*,?\\s*$",
      hint: "comma-separated model=deployment pairs, e.g. gpt-3.5-turbo=gpt-35-turbo,gpt-4o=prod-4o",
      description: "Model → deployment; a model not in the map goes to the deployment of the same name.",
    }),
  ),
  AUTH_KEY: Type.Optional(
    Type.String({
      pattern: "^\\s*[^,\\s]+\\s*(,\\s*[^,\\s]+\\s*)*$",
      secret: true,
      hint: "one or more keys separated by commas, without spaces inside a key",
      description: "Client keys, comma-separated; clients send `Authorization: Bearer K` or `api-key: K`.",
    }),
  ),
  AZURE_OPENAI_MAX_COMPLETION_TOKENS_MODELS: Type.Optional(
    Type.String({
      pattern: "^\\s*[^,\\s]+\\s*(,\\s*[^,\\s]+\\s*)*$",
      hint: "comma-separated model or deployment names, a trailing * matching a prefix (o1*,o3-mini,gpt-5*)",
      description: "Models that reject `max_tokens`: on chat calls the proxy renames it to `max_completion_tokens`.",
    }),
  ),
  AZURE_PROXY_STREAM_FIXUPS: Type.Optional(
    Type.String({
      pattern: "^(on|off)$",
      hint: "on or off",
      description: "Drop Azure's annotation-only stream chunks on OpenAI-shaped routes (default on).",
    }),
  ),
  PORT: Type.Optional(Type.String({ pattern: "^\\d{1,5}$", hint: "a port number 0-65535", description: "Listen port (default 8000)." })),
  HOST: Type.Optional(Type.String({ minLength: 1, description: "Listen address (default 0.0.0.0)." })),
  AZURE_PROXY_WORKERS: Type.Optional(
    Type.String({
      pattern: "^(auto|[1-9]\\d{0,2})$",
      hint: "auto or a process count 1-256",
      description: "Processes serving the port (default auto: one per CPU core).",
    }),
  ),
  LOG_LEVEL: Type.Optional(Type.String({ pattern: "^(debug|info|warn|error)$", hint: "debug, info, warn or error", description: "Log level (default info)." })),
  LOG_FORMAT: Type.Optional(
    Type.String({ pattern: "^(json|pretty)$", hint: "json or pretty", description: "Log format (default json when stdout is not a TTY)." }),
  ),
  AZURE_AUTHORITY_HOST: Type.Optional(
    Type.String({
      pattern: "^https?://\\S+$",
      hint: "an http(s) URL",
      description: "Microsoft identity platform for Entra ID client credentials (sovereign clouds); the Azure SDKs' own name.",
    }),
  ),
  AZURE_PROXY_CONFIG: Type.Optional(Type.String({ minLength: 1, description: "Path of a config file, YAML or JSON (same as --config)." })),
  AZURE_PROXY_TLS_CERT: Type.Optional(Type.String({ minLength: 1, description: "PEM certificate file: serve HTTPS and WSS (server.tls.cert_file)." })),
  AZURE_PROXY_TLS_KEY: Type.Optional(Type.String({ minLength: 1, description: "PEM private key file of that certificate (server.tls.key_file)." })),
  AZURE_PROXY_MAX_BODY_BYTES: Type.Optional(
    Type.String({ pattern: "^\\d+$", hint: "a byte count, at least 1024", description: "Largest request body accepted (default 27262976)." }),
  ),
  AZURE_PROXY_STATE_PATH: Type.Optional(Type.String({ minLength: 1, description: "SQLite file for the usage ledger and budgets (state.path)." })),
  AZURE_PROXY_REDIS_URL: Type.Optional(
    Type.String({ pattern: "^rediss?://", secret: true, hint: "a redis:// or rediss:// URL", description: "Redis shared by several instances (state.redis)." }),
  ),
});

export type Env = Static<typeof EnvSchema>;
export const ENV_NAMES = Object.keys(EnvSchema.properties) as Array<keyof Env>;
