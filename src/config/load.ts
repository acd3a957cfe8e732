/**
 * File + environment + command line → one validated, defaulted, frozen Config, or every problem
 * at once, each named by its path (`upstreams[1].api_version: ...`) or variable. Precedence:
 * command-line flags, then the file, then the environment, then the schema's defaults; the
 * environment's AUTH_KEY keys are added to the file's. Secrets are never echoed back.
 */
import { readFileSync } from "node:fs";
import { Value } from "@sinclair/typebox/value";
import YAML from "yaml";
import { ENV_NAMES, EnvSchema, type Env } from "./env-schema.ts";
import { normaliseEndpoint, parseList, parseModelMap } from "./env.ts";
import { ConfigSchema, type Config } from "./schema.ts";

export interface CliOverrides {
  port?: number;
  workers?: number | "auto";
  host?: string;
  insecureNoAuth?: boolean;
  /** --config; AZURE_PROXY_CONFIG when absent. */
  configPath?: string;
}

export interface LoadInput {
  env: Record<string, string | undefined>;
  cli?: CliOverrides;
  stdoutIsTTY?: boolean;
}

export type LoadResult = { ok: true; config: Config; file: string | null } | { ok: false; issues: string[] };

type Raw = Record<string, unknown>;

const NO_KEYS =
  "AUTH_KEY: required; set one or more client keys (or `keys` in the config file), or start with --insecure-no-auth to run an open relay on purpose";

export function loadConfig({ env: rawEnv, cli = {}, stdoutIsTTY = false }: LoadInput): LoadResult {
  const env = pickEnv(rawEnv);
  const issues = envIssues(env);
  const file = cli.configPath ?? env.AZURE_PROXY_CONFIG ?? null;
  let raw: Raw = {};
  if (file !== null) {
    const read = readConfigFile(file, rawEnv);
    if ("issues" in read) return { ok: false, issues: [...issues, ...read.issues] };
    raw = read.value;
  }
  if (issues.length > 0) return { ok: false, issues };

  const fromEnv = envLayer(env, issues);
  const merged = mergeLayers(raw, fromEnv, cli, stdoutIsTTY);
  if ((merged.upstreams as unknown[]).length === 0) {
    issues.push("AZURE_OPENAI_ENDPOINT (or AZURE_ENDPOINT): required, e.g. https://myres.openai.azure.com, unless a config file lists upstreams");
  }
  if ((merged.keys as unknown[]).length === 0 && (merged.auth as Raw).insecure_no_auth !== true) issues.push(NO_KEYS);
  if (issues.length > 0) return { ok: false, issues };

  const withDefaults = Value.Default(ConfigSchema, structuredClone(merged)) as Raw;
  const schemaIssues = [...Value.Errors(ConfigSchema, withDefaults)].map((e) => describeError(e.path, e.message, e.schema as { description?: string }));
  if (schemaIssues.length > 0) return { ok: false, issues: dedupe(schemaIssues) };
  const config = withDefaults as Config;
  const semantic = semanticIssues(config, file !== null);
  if (semantic.length > 0) return { ok: false, issues: semantic };
  return { ok: true, config: deepFreeze(config), file };
}

function readConfigFile(path: string, env: Record<string, string | undefined>): { value: Raw } | { issues: string[] } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return { issues: [`config file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`] };
  }
  let parsed: unknown;
  try {
    // YAML 1.2 (the library's default): an unquoted 2024-10-21 stays a string, not a date
    parsed = YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    return { issues: [`config file ${path}: not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`] };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    return { issues: [`config file ${path}: must be a mapping (YAML) or an object (JSON)`] };
  const issues: string[] = [];
  const value = substitute(parsed, "", env, issues) as Raw;
  return issues.length > 0 ? { issues } : { value };
}

/** `${VAR}` in any string value, from the environment; a missing variable is an error, not "". */
function substitute(value: unknown, path: string, env: Record<string, string | undefined>, issues: string[]): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined || v === "") issues.push(`${path || "(root)"}: uses \${${name}}, which is not set in the environment`);
      return v ?? "";
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, `${path}[${i}]`, env, issues));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, path ? `${path}.${k}` : k, env, issues)]));
  }
  return value;
}

/** The environment's part, in the file's shape. */
function envLayer(env: Env, issues: string[]): Raw {
  const layer: Raw = {};
  const endpointVar = env.AZURE_OPENAI_ENDPOINT !== undefined ? "AZURE_OPENAI_ENDPOINT" : "AZURE_ENDPOINT";
  const endpointRaw = env.AZURE_OPENAI_ENDPOINT ?? env.AZURE_ENDPOINT;
  if (endpointRaw !== undefined) {
    const endpoint = normaliseEndpoint(endpointRaw);
    if (endpoint instanceof Error) issues.push(`${endpointVar}: ${endpoint.message}`);
    else {
      layer.upstreams = [
        {
          name: "default",
          endpoint,
          api_key: env.AZURE_OPENAI_API_KEY,
          api_version: env.AZURE_OPENAI_API_VERSION,
          deployments: parseModelMap(env.AZURE_OPENAI_MODEL_MAP ?? ""),
          // the Flask proxy sent any model to the deployment of the same name; so do we
          any_model: true,
        },
      ];
    }
  }
  layer.keys = parseList(env.AUTH_KEY).map((key, i) => ({ name: `AUTH_KEY-${i + 1}`, key }));
  layer.compat = {
    max_completion_tokens_models: parseList(env.AZURE_OPENAI_MAX_COMPLETION_TOKENS_MODELS),
    stream_fixups: env.AZURE_PROXY_STREAM_FIXUPS === undefined ? undefined : env.AZURE_PROXY_STREAM_FIXUPS === "on",
  };
  layer.limits = { max_body_bytes: env.AZURE_PROXY_MAX_BODY_BYTES === undefined ? undefined : Number(env.AZURE_PROXY_MAX_BODY_BYTES) };
  layer.server = {
    host: env.HOST,
    port: env.PORT === undefined ? undefined : Number(env.PORT),
    workers: env.AZURE_PROXY_WORKERS === undefined || env.AZURE_PROXY_WORKERS === "auto" ? env.AZURE_PROXY_WORKERS : Number(env.AZURE_PROXY_WORKERS),
    tls:
      env.AZURE_PROXY_TLS_CERT === undefined && env.AZURE_PROXY_TLS_KEY === undefined
        ? undefined
        : { cert_file: env.AZURE_PROXY_TLS_CERT, key_file: env.AZURE_PROXY_TLS_KEY },
  };
  if ((env.AZURE_PROXY_TLS_CERT === undefined) !== (env.AZURE_PROXY_TLS_KEY === undefined)) {
    issues.push(
      env.AZURE_PROXY_TLS_CERT === undefined
        ? "AZURE_PROXY_TLS_CERT: required with AZURE_PROXY_TLS_KEY"
        : "AZURE_PROXY_TLS_KEY: required with AZURE_PROXY_TLS_CERT",
    );
  }
  layer.log = { level: env.LOG_LEVEL, format: env.LOG_FORMAT };
  layer.state = { path: env.AZURE_PROXY_STATE_PATH, redis: env.AZURE_PROXY_REDIS_URL };
  layer.identity = { authority_host: env.AZURE_AUTHORITY_HOST };
  return layer;
}

function mergeLayers(file: Raw, env: Raw, cli: CliOverrides, tty: boolean): Raw {
  const section = (name: string) => ({ ...dropUndefined(env[name] as Raw | undefined), ...dropUndefined(file[name] as Raw | undefined) });
  const merged: Raw = { ...file };
  const fileUpstreams = file.upstreams as unknown[] | undefined;
  merged.upstreams = fileUpstreams && fileUpstreams.length > 0 ? fileUpstreams : (env.upstreams ?? []);
  merged.keys = [...((file.keys as unknown[]) ?? []), ...((env.keys as unknown[]) ?? [])];
  for (const name of ["compat", "limits", "server", "log", "identity", "state"]) merged[name] = section(name);
  const server = merged.server as Raw;
  if (cli.port !== undefined) server.port = cli.port;
  if (cli.host !== undefined) server.host = cli.host;
  if (cli.workers !== undefined) server.workers = cli.workers;
  const log = merged.log as Raw;
  log.format ??= tty ? "pretty" : "json";
  // deliberate either way: the flag, or the file saying so
  merged.auth = { insecure_no_auth: cli.insecureNoAuth === true || (file.auth as Raw | undefined)?.insecure_no_auth === true };
  return merged;
}

function semanticIssues(config: Config, fromFile: boolean): string[] {
  const issues: string[] = [];
  const names = new Set<string>();
  config.upstreams.forEach((u, i) => {
    if (names.has(u.name)) issues.push(`upstreams[${i}].name: '${u.name}' is used twice; names must be unique`);
    names.add(u.name);
    const credentials = Number(u.api_key !== undefined) + Number(u.entra !== undefined);
    if (credentials !== 1 && !fromFile) issues.push("AZURE_OPENAI_API_KEY: required (the key of the Azure OpenAI resource)");
    else if (credentials !== 1)
      issues.push(`upstreams[${i}]: ${credentials === 0 ? "needs a credential: api_key or entra" : "give api_key or entra, not both"}`);
    if (!u.any_model && Object.keys(u.deployments).length === 0)
      issues.push(`upstreams[${i}].deployments: lists no model, so the upstream would serve nothing`);
  });
  for (const [group, members] of Object.entries(config.groups)) {
    members.forEach((m, i) => {
      if (!names.has(m)) issues.push(`groups.${group}[${i}]: no upstream is named '${m}'`);
    });
  }
  const keyNames = new Set<string>();
  config.keys.forEach((k, i) => {
    if (keyNames.has(k.name)) issues.push(`keys[${i}].name: '${k.name}' is used twice`);
    keyNames.add(k.name);
    if ((k.key === undefined) === (k.key_sha256 === undefined)) issues.push(`keys[${i}]: give key or key_sha256 (one of them)`);
  });
  return issues;
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
  if (env.PORT !== undefined && Number(env.PORT) > 65535) issues.push("PORT: must be a port number 0-65535");
  if (env.AZURE_PROXY_MAX_BODY_BYTES !== undefined && Number(env.AZURE_PROXY_MAX_BODY_BYTES) < 1024)
    issues.push("AZURE_PROXY_MAX_BODY_BYTES: must be at least 1024");
  return issues;
}

/** "/upstreams/0/api_version" + TypeBox's message → "upstreams[0].api_version: ..." */
function describeError(path: string, message: string, schema: { description?: string; pattern?: string }): string {
  const where =
    path
      .split("/")
      .filter(Boolean)
      .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
      .join("") || "(root)";
  if (message === "Unexpected property") return `${where}: unknown field (check its spelling against the README's config reference)`;
  if (message.startsWith("Expected string to match")) return `${where}: ${schema.description ?? message}`;
  return `${where}: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
}

function dropUndefined(raw: Raw | undefined): Raw {
  return Object.fromEntries(Object.entries(raw ?? {}).filter(([, v]) => v !== undefined));
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
