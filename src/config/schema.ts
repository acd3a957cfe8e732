/**
 * The configuration, as one TypeBox schema: the config file's shape (docs/contract.md),
 * which the environment fills too. Every field says what it means where it is declared; the
 * README's reference is generated from these descriptions (`azure-proxy check --schema`).
 * Validated, defaulted and frozen once at load; runtime state (cooldowns, tokens) lives apart.
 */
import { Type, type Static } from "@sinclair/typebox";
import { API_VERSION_PATTERN } from "./api-version.ts";
import { BudgetSchema, ClientKeySchema, PriceSchema } from "./key-schema.ts";
import { Name, Positive } from "./schema-parts.ts";

export { BudgetSchema, ClientKeySchema, PriceSchema };

export const DEFAULT_MAX_BODY_BYTES = 27_262_976; // 26 MiB: Whisper's 25 MB file plus multipart framing

export const EntraClientSchema = Type.Object(
  {
    tenant_id: Type.String({ minLength: 1, description: "Directory (tenant) id." }),
    client_id: Type.String({ minLength: 1, description: "Application (client) id." }),
    client_secret: Type.String({ minLength: 1, description: "Client secret. Secret." }),
  },
  { additionalProperties: false, description: "Microsoft Entra ID client credentials (a service principal)." },
);

export const ManagedIdentitySchema = Type.Object(
  {
    managed_identity: Type.Literal(true, { description: "Use the Azure instance metadata endpoint's managed identity." }),
    client_id: Type.Optional(Type.String({ minLength: 1, description: "A user-assigned identity's client id; absent: the system-assigned one." })),
  },
  { additionalProperties: false },
);

export const UpstreamSchema = Type.Object(
  {
    name: { ...Name, description: "Unique name; shows in logs, metrics and errors." },
    endpoint: Type.String({ pattern: "^https?://[^/?#\\s]+$", description: "Resource base URL, e.g. https://myres.openai.azure.com (no path)." }),
    api_key: Type.Optional(Type.String({ minLength: 1, description: "Azure key, sent upstream as `api-key`. Secret. Give this or `entra`." })),
    entra: Type.Optional(Type.Union([EntraClientSchema, ManagedIdentitySchema], { description: "Microsoft Entra ID instead of a key." })),
    api_version: Type.String({
      pattern: API_VERSION_PATTERN,
      default: "v1",
      description: "A date selects the dated API; v1 or preview (or absent) the v1 API.",
    }),
    priority: Type.Integer({ minimum: 0, default: 0, description: "Lower is tried first; equal priorities share traffic by weight." }),
    weight: Type.Integer({ minimum: 1, default: 1, description: "Share of traffic within its priority." }),
    deployments: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
      default: {},
      description: "Model name a client sends → deployment name on this resource.",
    }),
    any_model: Type.Boolean({ default: false, description: "Also serve models not in `deployments`, as the deployment of the same name." }),
    spillover: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
      default: {},
      description:
        "Azure's own spillover: deployment → the deployment Azure should send its overflow to (sent as `x-ms-spillover-deployment`, typically a provisioned deployment → a standard one).",
    }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    upstreams: Type.Array(UpstreamSchema, { minItems: 1, description: "Azure resources to send requests to." }),
    groups: Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), {
      default: {},
      description: "A `Proxy-src` header value → the upstreams that serve requests carrying it.",
    }),
    keys: Type.Array(ClientKeySchema, { default: [], description: "Client keys. AUTH_KEY adds unnamed ones." }),
    cors: Type.Object(
      { origins: Type.Array(Type.String({ minLength: 1 }), { default: [], description: "Browser origins allowed to call the proxy; none by default." }) },
      { default: {}, additionalProperties: false, description: "Browser access (CORS)." },
    ),
    limits: Type.Object(
      {
        max_body_bytes: Type.Integer({ minimum: 1024, default: DEFAULT_MAX_BODY_BYTES, description: "Largest request body accepted (413 above)." }),
        max_spool_bytes: Type.Integer({
          minimum: 1024,
          default: 1_073_741_824,
          description:
            "Bytes all request bodies being read or held (memory and spool files) may take together; a body past it gets 503 with retry-after and is not forwarded. Each of several workers holds an equal share, at least max_body_bytes.",
        }),
        max_form_parts: Positive("Parts in one multipart form; more is a 400.", 1000),
      },
      { default: {}, additionalProperties: false, description: "Request limits for every client." },
    ),
    timeouts: Type.Object(
      {
        connect_ms: Positive("Connecting to an upstream that has not answered lately.", 10_000),
        first_byte_ms: Positive("Waiting for an upstream's response headers (reasoning models think for minutes).", 600_000),
        // above 300 s: a reasoning model may be silent that long between chunks (issue #4)
        idle_ms: Positive("Silence between two chunks of an upstream's answer.", 600_000),
        client_body_ms: Positive("Silence while a client's request body arrives; then 408, and its spool is freed.", 60_000),
      },
      {
        default: {},
        additionalProperties: false,
        description: "Timeouts; an upstream one that fires is a clear error (or a failover, before the first byte).",
      },
    ),
    retry: Type.Object(
      {
        max_attempts: Positive("Upstream attempts per request, the first included.", 3),
        max_wait_ms: Type.Integer({
          minimum: 0,
          default: 30_000,
          description: "No new attempt (on any deployment, tried or not) or backoff starts this long after the request came; cooldowns are never waited on.",
        }),
        default_cooldown_ms: Positive(
          "Cooldown after a 429/503 without Retry-After, a 5xx or timeout (that deployment), an unreachable resource or refused credentials (the resource).",
          10_000,
        ),
        max_cooldown_ms: Positive("Longest cooldown a Retry-After can ask for.", 60_000),
      },
      { default: {}, additionalProperties: false, description: "Failover across upstream deployments, while nothing was sent to the client." },
    ),
    routing: Type.Object(
      {
        headroom: Type.Boolean({
          default: true,
          description:
            "Steer by Azure's x-ratelimit-remaining-* and utilization headers: a deployment that would answer 429 is tried after those with headroom.",
        }),
        ptu_spill_at: Type.Number({
          minimum: 0,
          maximum: 100,
          default: 95,
          description: "Provisioned (PTU) deployments: at or above this utilization % a deployment counts as full.",
        }),
      },
      { default: {}, additionalProperties: false, description: "How requests choose among the deployments that serve their model." },
    ),
    metrics: Type.Object(
      { require_key: Type.Boolean({ default: false, description: "Ask for a client key on /metrics (ops endpoints are open by default)." }) },
      { default: {}, additionalProperties: false, description: "The Prometheus endpoint." },
    ),
    shutdown: Type.Object(
      {
        grace_ms: Type.Integer({ minimum: 0, default: 30_000, description: "On SIGTERM/SIGINT, how long requests and streams in flight may take to finish." }),
      },
      { default: {}, additionalProperties: false, description: "Stopping." },
    ),
    identity: Type.Object(
      {
        authority_host: Type.String({
          pattern: "^https?://",
          default: "https://login.microsoftonline.com",
          description: "Microsoft identity platform (client credentials).",
        }),
        imds_endpoint: Type.String({
          pattern: "^https?://",
          default: "http://169.254.169.254",
          description: "Azure instance metadata service (managed identity).",
        }),
        scope: Type.String({ default: "https://cognitiveservices.azure.com/.default", description: "Token scope for Azure OpenAI." }),
      },
      { default: {}, additionalProperties: false, description: "Where Entra ID tokens come from (set only for sovereign clouds or tests)." },
    ),
    compat: Type.Object(
      {
        max_completion_tokens_models: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: "Models (or deployments) that reject `max_tokens`: chat calls get it renamed to `max_completion_tokens`. A trailing * matches a prefix.",
        }),
        stream_fixups: Type.Boolean({ default: true, description: "On OpenAI-shaped routes, drop Azure's annotation-only stream chunks." }),
        heartbeat_ms: Type.Integer({
          minimum: 0,
          default: 15_000,
          description: "On OpenAI-shaped routes, an SSE comment this often while a started stream is quiet, so proxies and clients do not time out (0: off).",
        }),
      },
      { default: {}, additionalProperties: false, description: "Adjustments for clients written against OpenAI." },
    ),
    realtime: Type.Object(
      {
        ping_s: Type.Integer({
          minimum: 5,
          maximum: 255,
          default: 20,
          description:
            "Realtime sessions: a side quiet this long is pinged, and the session closed (1011) when no pong comes within another period. Below nginx's proxy_read_timeout.",
        }),
        max_buffered_bytes: Type.Integer({
          minimum: 65_536,
          default: 4_194_304,
          description:
            "Realtime sessions: bytes the proxy may hold for a side that is not reading; past it the session is closed (1008 to a slow client, 1011 when the upstream is slow).",
        }),
        ephemeral_key_secret: Type.Optional(
          Type.String({
            minLength: 32,
            description:
              "Secret. Seals the ephemeral keys handed out by client_secrets so that none can be forged; give every instance the same. Absent: derived from the config's secrets (upstream api_key, Entra client_secret, plain client keys), or, when it holds none, random at each start (keys then hold at this instance only).",
          }),
        ),
      },
      { default: {}, additionalProperties: false, description: "Realtime API sessions over WebSocket (/v1/realtime)." },
    ),
    server: Type.Object(
      {
        host: Type.String({ minLength: 1, default: "0.0.0.0", description: "Listen address." }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8000, description: "Listen port (0: any free port)." }),
        workers: Type.Union([Type.Literal("auto"), Type.Integer({ minimum: 1, maximum: 256 })], {
          default: "auto",
          description:
            "Processes serving the port together (auto: one per usable CPU core, a cgroup CPU quota included; 1: a single process). Cooldowns, key limits and /metrics are shared between them.",
        }),
        tls: Type.Optional(
          Type.Object(
            {
              cert_file: Type.String({ minLength: 1, description: "PEM certificate chain (leaf first). Read at start and again on SIGHUP." }),
              key_file: Type.String({ minLength: 1, description: "PEM private key of the certificate. Secret." }),
            },
            {
              additionalProperties: false,
              description:
                "Serve HTTPS and WSS on the port with the runtime's own TLS (env AZURE_PROXY_TLS_CERT, AZURE_PROXY_TLS_KEY); absent: plain HTTP, TLS at a front such as nginx.",
            },
          ),
        ),
      },
      {
        default: {},
        additionalProperties: false,
        description: "Where the proxy listens (HOST, PORT, AZURE_PROXY_WORKERS fill in what the file leaves out; --host, --port, --workers override it).",
      },
    ),
    auth: Type.Object(
      {
        insecure_no_auth: Type.Boolean({
          default: false,
          description: "Serve without client keys: an open relay spends your Azure quota (also --insecure-no-auth).",
        }),
      },
      { default: {}, additionalProperties: false, description: "Client authentication." },
    ),
    state: Type.Object(
      {
        path: Type.Optional(
          Type.String({
            minLength: 1,
            description: "SQLite file for the usage ledger and budgets (AZURE_PROXY_STATE_PATH); survives restarts. Absent: memory only.",
          }),
        ),
        redis: Type.Optional(
          Type.String({ pattern: "^rediss?://", description: "Redis URL shared by several instances (AZURE_PROXY_REDIS_URL). Secret (may hold a password)." }),
        ),
        key_prefix: Type.String({ minLength: 1, default: "azure-proxy:", description: "Prefix of every Redis key." }),
      },
      { default: {}, additionalProperties: false, description: "State that outlives the process: usage ledger and budgets." },
    ),
    prices: Type.Record(Type.String({ minLength: 1 }), PriceSchema, {
      default: {},
      description: "Model name → USD per 1M tokens, for cost in usage and USD budgets. Models not listed cost 0 and show as unpriced.",
    }),
    log: Type.Object(
      {
        level: Type.Union([Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")], {
          default: "info",
          description: "Least severe level written.",
        }),
        format: Type.Union([Type.Literal("json"), Type.Literal("pretty")], {
          default: "json",
          description: "One JSON object per line, or short lines for a terminal (the default on a TTY).",
        }),
      },
      { default: {}, additionalProperties: false, description: "Logging (LOG_LEVEL, LOG_FORMAT)." },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type UpstreamConfig = Static<typeof UpstreamSchema>;
export type ClientKeyConfig = Static<typeof ClientKeySchema>;
export type BudgetConfig = Static<typeof BudgetSchema>;
export type PriceConfig = Static<typeof PriceSchema>;
