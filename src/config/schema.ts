/**
 * The validated, frozen configuration the proxy runs on. Every field says what it means where
 * it is declared; `check` prints this shape with secrets masked. The env reader (env.ts) fills
 * it today; the config file of the routing issue will fill the same shape.
 */
import { Type, type Static } from "@sinclair/typebox";
import { API_VERSION_PATTERN } from "./api-version.ts";

export const DEFAULT_MAX_BODY_BYTES = 27_262_976; // 26 MiB: Whisper's 25 MB file plus multipart framing

export const UpstreamSchema = Type.Object({
  name: Type.String({ minLength: 1, description: "Unique name; shows in logs, metrics and errors." }),
  endpoint: Type.String({
    pattern: "^https?://[^/?#\\s]+$",
    description: "Resource base URL, e.g. https://myres.openai.azure.com (no path).",
  }),
  api_key: Type.String({ minLength: 1, description: "Azure key, sent upstream as `api-key`. Secret." }),
  api_version: Type.String({
    pattern: API_VERSION_PATTERN,
    default: "v1",
    description: "A date selects the dated API; v1 or preview select the v1 API.",
  }),
  deployments: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
    description: "Model name a client sends → deployment name on this resource.",
  }),
  any_model: Type.Boolean({
    default: false,
    description: "Also serve models not listed in `deployments`, as the deployment of the same name.",
  }),
});

export const ClientKeySchema = Type.Object({
  name: Type.String({ minLength: 1, description: "Shown in logs instead of the key." }),
  key: Type.String({ minLength: 1, description: "The key clients send. Secret." }),
});

export const ConfigSchema = Type.Object({
  server: Type.Object({
    host: Type.String({ minLength: 1, default: "0.0.0.0", description: "Listen address." }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8000, description: "Listen port (0: any free port)." }),
  }),
  upstreams: Type.Array(UpstreamSchema, { minItems: 1, description: "Azure resources to send requests to." }),
  keys: Type.Array(ClientKeySchema, { description: "Client keys accepted by the proxy." }),
  auth: Type.Object({
    insecure_no_auth: Type.Boolean({
      default: false,
      description: "Serve without client keys. Only with --insecure-no-auth: an open relay spends the operator's money.",
    }),
  }),
  compat: Type.Object({
    max_completion_tokens_models: Type.Array(Type.String({ minLength: 1 }), {
      description:
        "Models (or deployments) that reject `max_tokens`: the proxy renames it to `max_completion_tokens` on chat calls. A trailing * matches a prefix (o1*, gpt-5*).",
    }),
    stream_fixups: Type.Boolean({
      default: true,
      description: "On OpenAI-shaped routes, drop Azure's annotation-only stream chunks that strict OpenAI clients crash on.",
    }),
  }),
  limits: Type.Object({
    max_body_bytes: Type.Integer({ minimum: 1024, default: DEFAULT_MAX_BODY_BYTES, description: "Largest request body accepted (413 above)." }),
  }),
  log: Type.Object({
    level: Type.Union([Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")], { default: "info" }),
    format: Type.Union([Type.Literal("json"), Type.Literal("pretty")], { description: "json when stdout is not a TTY." }),
  }),
});

export type Config = Static<typeof ConfigSchema>;
export type UpstreamConfig = Static<typeof UpstreamSchema>;
export type ClientKeyConfig = Static<typeof ClientKeySchema>;
