/**
 * Azure shape: clients configured for Azure (AzureOpenAI SDK, NextChat's and LobeChat's Azure
 * modes) with endpoint `http://host:8000` and the key in `api-key`:
 *   /openai/deployments/{deployment}/{op}?api-version=…  the path's deployment is looked up like a model
 *   /openai/{op}?api-version=…                          dated operations that are not deployment-scoped
 *   /openai/{files,batches,…}?api-version=…             the resources, relayed to the v1 API
 *   /openai/v1/{op}                                     the v1 API, model in the body
 * The client's api-version is accepted and not passed on: the upstream's configured version
 * decides the upstream style.
 */
import { Elysia, t } from "elysia";
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
const DeploymentParams = t.Object({ deployment: t.String({ minLength: 1 }) });

export function azureRoutes(forward: Forward, bodyLimits: BodyLimits, access: RelayAccess) {
  const app = new Elysia({ name: "azure-routes", normalize: false, prefix: "/openai" });
  for (const { op, schema, deploymentSchema, check } of MODEL_ROUTES) {
    const parse = bodyParserFor(op, bodyLimits);
    const fromBody = ({ body, request }: Ctx) =>
      contextOf(request).answer(forward(callFrom(request, op, { shape: "azure", model: fields(body).model as string, body: fields(body), check })));
    if (op.deploymentScoped) {
      app.post(
        `/deployments/:deployment${op.suffix}`,
        ({ body, params, request }: Ctx) =>
          contextOf(request).answer(forward(callFrom(request, op, { shape: "azure", model: params.deployment, body: fields(body), check }))),
        { body: deploymentSchema, params: DeploymentParams, parse },
      );
    } else {
      app.post(op.suffix, fromBody, { body: deploymentSchema, parse });
    }
    app.post(`/v1${op.suffix}`, fromBody, { body: schema, parse });
  }
  for (const op of STORED_RESPONSE_OPERATIONS) {
    const handler = ({ params, request }: Ctx) => {
      access(request, false);
      refuseFormBody(request);
      return contextOf(request).answer(forward(callFrom(request, op, { shape: "azure", params })));
    };
    app.route(op.method, op.suffix, handler).route(op.method, `/v1${op.suffix}`, handler);
  }
  // The same resources at the dated authoring plane's paths (/openai/files?api-version=…), which
  // the AzureOpenAI SDKs use: relayed to the v1 API like the rest, the client's api-version
  // dropped (docs/azure.md §1.3).
  for (const resource of V1_RESOURCES) {
    for (const scope of ["/v1", ""]) {
      for (const path of [`${scope}/${resource}`, `${scope}/${resource}/*`]) {
        const relay = resourceRelay(forward, bodyLimits, access, {
          shape: "azure",
          prefix: `/openai${scope}`,
          upload: resource === "files" && !path.endsWith("*"),
        });
        app.get(path, relay).post(path, relay).delete(path, relay);
      }
    }
  }
  // The Node SDK puts a client-level deployment in front of /batches (docs/azure.md §1.6). A
  // batch runs the models its input file names, so the deployment means nothing here. The router
  // also matches a trailing slash: cut at the segment, as the /v1 relays see it.
  const beforeBatches = (pathname: string) => pathname.slice(0, pathname.lastIndexOf("/batches"));
  app.post("/deployments/:deployment/batches", resourceRelay(forward, bodyLimits, access, { shape: "azure", prefix: beforeBatches, upload: false }));
  return app;
}
