/**
 * Client keys in the config (`keys[]`): who may call, with which models, limits, budget and
 * admin right; and the `prices` a budget in USD is reckoned with. Part of the one config schema
 * (schema.ts), kept apart because it is the part about callers rather than upstreams.
 */
import { Type } from "@sinclair/typebox";
import { Name, Positive } from "./schema-parts.ts";

const Usd = (description: string) => Type.Number({ exclusiveMinimum: 0, description });

export const BudgetSchema = Type.Object(
  {
    tokens_per_day: Type.Optional(Positive("Tokens (prompt + completion) per UTC day.")),
    tokens_per_month: Type.Optional(Positive("Tokens (prompt + completion) per UTC month.")),
    usd_per_day: Type.Optional(Usd("Cost in USD (from `prices`) per UTC day.")),
    usd_per_month: Type.Optional(Usd("Cost in USD (from `prices`) per UTC month.")),
  },
  { additionalProperties: false, description: "Spend per key; past one, calls get 429 insufficient_quota until it resets. Absent: no budget." },
);

const PerMillion = (description: string) => Type.Number({ minimum: 0, description });

export const PriceSchema = Type.Object(
  {
    input: PerMillion("USD per 1M prompt tokens."),
    cached_input: Type.Optional(PerMillion("USD per 1M cached prompt tokens; absent: the input price.")),
    output: PerMillion("USD per 1M completion tokens."),
  },
  { additionalProperties: false },
);

export const ClientKeySchema = Type.Object(
  {
    name: { ...Name, description: "Shown in logs and metrics instead of the key." },
    key: Type.Optional(Type.String({ minLength: 1, description: "The key clients send. Secret. Give this or `key_sha256`." })),
    key_sha256: Type.Optional(Type.String({ pattern: "^[0-9a-fA-F]{64}$", description: "Hex SHA-256 of the key, so the file holds no secret." })),
    models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: "Models this key may use; absent: all." })),
    rpm: Type.Optional(Positive("Requests per minute; absent: unlimited.")),
    tpm: Type.Optional(Positive("Tokens per minute (prompt + completion); absent: unlimited.")),
    max_streams: Type.Optional(Positive("Concurrent streams; absent: unlimited.")),
    budget: Type.Optional(BudgetSchema),
    admin: Type.Boolean({ default: false, description: "May read /admin/* (the usage report)." }),
  },
  { additionalProperties: false },
);
