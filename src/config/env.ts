/**
 * Environment → Config. Each problem is reported with the variable's name and what is wrong;
 * secrets are never echoed back, not even in an error.
 */
import { Value } from "@sinclair/typebox/value";
import { EnvSchema, ENV_NAMES, type Env } from "./env-schema.ts";
import { ConfigSchema, DEFAULT_MAX_BODY_BYTES, type Config } from "./schema.ts";

export interface CliOverrides {
  port?: number;
  host?: string;
  insecureNoAuth?: boolean;
}

export type LoadResult = { ok: true; config: Config } | { ok: false; issues: string[] };

export function configFromEnv(raw: Record<string, string | undefined>, cli: CliOverrides = {}, stdoutIsTTY = false): LoadResult {
  if (raw.AZURE_PROXY_CONFIG) {
    return { ok: false, issues: ["AZURE_PROXY_CONFIG: config files are not supported by this version yet; configure through the environment variables in the README"] };
  }
  const env = pickEnv(raw);
  const issues = envIssues(env);
  if (issues.length > 0) return { ok: false, issues };

  const endpointVar = env.AZURE_OPENAI_ENDPOINT !== undefined ? "AZURE_OPENAI_ENDPOINT" : "AZURE_ENDPOINT";
  const endpointRaw = env.AZURE_OPENAI_ENDPOINT ?? env.AZURE_ENDPOINT;
  if (endpointRaw === undefined) issues.push("AZURE_OPENAI_ENDPOINT (or AZURE_ENDPOINT): required, e.g. https://myres.openai.azure.com");
  const endpoint = endpointRaw === undefined ? undefined : normaliseEndpoint(endpointRaw);
  if (endpoint instanceof Error) issues.push(`${endpointVar}: ${endpoint.message}`);
  if (env.AZURE_OPENAI_API_KEY === undefined) issues.push("AZURE_OPENAI_API_KEY: required (the key of the Azure OpenAI resource)");

  const keys = (env.AUTH_KEY ?? "").split(",").map((k) => k.trim()).filter((k) => k.length > 0);
  const insecure = cli.insecureNoAuth === true;
  if (keys.length === 0 && !insecure) {
    issues.push("AUTH_KEY: required; set one or more client keys, or start with --insecure-no-auth to run an open relay on purpose");
  }
  const maxBody = env.AZURE_PROXY_MAX_BODY_BYTES === undefined ? DEFAULT_MAX_BODY_BYTES : Number(env.AZURE_PROXY_MAX_BODY_BYTES);
  if (maxBody < 1024) issues.push("AZURE_PROXY_MAX_BODY_BYTES: must be at least 1024");
  const port = cli.port ?? (env.PORT === undefined ? 8000 : Number(env.PORT));
  if (port > 65535) issues.push(`${cli.port !== undefined ? "--port" : "PORT"}: must be 0-65535`);
  if (issues.length > 0) return { ok: false, issues };

  const config: Config = {
    server: { host: cli.host ?? env.HOST ?? "0.0.0.0", port },
    upstreams: [
      {
        name: "default",
        endpoint: endpoint as string,
        api_key: env.AZURE_OPENAI_API_KEY as string,
        api_version: env.AZURE_OPENAI_API_VERSION ?? "v1",
        deployments: parseModelMap(env.AZURE_OPENAI_MODEL_MAP ?? ""),
        any_model: true,
      },
    ],
    keys: keys.map((key, i) => ({ name: `AUTH_KEY#${i + 1}`, key })),
    auth: { insecure_no_auth: keys.length === 0 && insecure },
    compat: {
      max_completion_tokens_models: (env.AZURE_OPENAI_MAX_COMPLETION_TOKENS_MODELS ?? "").split(",").map((m) => m.trim()).filter((m) => m !== ""),
      stream_fixups: env.AZURE_PROXY_STREAM_FIXUPS !== "off",
    },
    limits: { max_body_bytes: maxBody },
    log: {
      level: (env.LOG_LEVEL ?? "info") as Config["log"]["level"],
      format: (env.LOG_FORMAT ?? (stdoutIsTTY ? "pretty" : "json")) as Config["log"]["format"],
    },
  };
  // The env checks above should make this unreachable; it guards the two schemas drifting apart.
  const drift = [...Value.Errors(ConfigSchema, config)].map((e) => `config${e.path}: ${e.message}`);
  if (drift.length > 0) return { ok: false, issues: drift };
  return { ok: true, config: deepFreeze(config) };
}

function pickEnv(raw: Record<string, string | undefined>): Env {
  const env: Record<string, string> = {};
  for (const name of ENV_NAMES) {
    const value = raw[name]?.trim();
    // compose files often set a variable to "" to mean "unset"
    if (value !== undefined && value !== "") env[name] = value;
  }
  return env as Env;
}

function envIssues(env: Env): string[] {
  const issues: string[] = [];
  for (const error of Value.Errors(EnvSchema, env)) {
    const name = error.path.slice(1);
    const field = EnvSchema.properties[name as keyof Env] as { hint?: string; secret?: boolean } | undefined;
    const got = field?.secret ? "" : `; got ${JSON.stringify(error.value)}`;
    issues.push(`${name}: must be ${field?.hint ?? error.message}${got}`);
  }
  return issues;
}

/** Accept what people paste: trailing slashes and the `/openai` or `/openai/v1` suffix. */
export function normaliseEndpoint(raw: string): string | Error {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return new Error("is not a valid URL");
  }
  if (url.username || url.password) return new Error("must not contain credentials");
  if (url.search || url.hash) return new Error("must not contain a query or fragment");
  const path = url.pathname.replace(/\/+$/, "").replace(/\/openai(\/v1)?$/, "");
  if (path !== "") return new Error(`must be the resource base URL without a path (found "${path}")`);
  return `${url.protocol}//${url.host}`;
}

export function parseModelMap(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const [model, deployment] = pair.split("=").map((s) => s.trim());
    if (model && deployment) map[model] = deployment;
  }
  return map;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
