/** OpenAI shape: clients with base URL `http://host:8000/v1` and `Authorization: Bearer`. */
import { Elysia } from "elysia";
import type { Forward } from "../proxy/forward.ts";
import { STORED_RESPONSE_OPERATIONS, V1_RESOURCES } from "../proxy/operations.ts";
import type { BodyLimits } from "./body-read.ts";
import { callFrom } from "./call-from-request.ts";
import { refuseFormBody } from "./form-guard.ts";
import { contextOf } from "./request-context.ts";
import type { RelayAccess } from "./relay-access.ts";
import { resourceRelay } from "./resource-relay.ts";
import { bodyParserFor, MODEL_ROUTES } from "./route-table.ts";

// The schema has validated `body` by the time a handler runs; loops lose Elysia's inference.
type Ctx = { body: unknown; params: Record<string, string>; request: Request };
const fields = (body: unknown) => body as Record<string, unknown>;

export function openaiRoutes(forward: Forward, bodyLimits: BodyLimits, access: RelayAccess) {
  const app = new Elysia({ name: "openai-routes", normalize: false, prefix: "/v1" });
  for (const { op, schema, check } of MODEL_ROUTES) {
    app.post(
      op.suffix,
      ({ body, request }: Ctx) =>
        contextOf(request).answer(forward(callFrom(request, op, { shape: "openai", model: fields(body).model as string, body: fields(body), check }))),
      {
        body: schema,
        parse: bodyParserFor(op, bodyLimits),
      },
    );
  }
  for (const op of STORED_RESPONSE_OPERATIONS) {
    app.route(op.method, op.suffix, ({ params, request }: Ctx) => {
      access(request, false);
      refuseFormBody(request);
      return contextOf(request).answer(forward(callFrom(request, op, { shape: "openai", params })));
    });
  }
  for (const resource of V1_RESOURCES) {
    for (const path of [`/${resource}`, `/${resource}/*`]) {
      const relay = resourceRelay(forward, bodyLimits, access, { shape: "openai", prefix: "/v1", upload: path === "/files" });
      // the methods the resources have, no others (an `all` route once relayed OPTIONS to Azure)
      app.get(path, relay).post(path, relay).delete(path, relay);
    }
  }
  return app;
}
