/**
 * The route handler of the resource relays (files, batches, vector stores, fine-tuning), in both
 * shapes and at every path they are offered: who may use them (relay-access.ts), no page form
 * (only an upload's multipart), then the call relayed to the v1 API with the path after `prefix`.
 */
import type { Shape } from "../proxy/call.ts";
import type { Forward } from "../proxy/forward.ts";
import { V1_RESOURCE } from "../proxy/operations.ts";
import type { BodyLimits } from "./body-read.ts";
import { resourceCallFrom } from "./call-from-request.ts";
import { refuseFormBody } from "./form-guard.ts";
import type { RelayAccess } from "./relay-access.ts";
import { contextOf } from "./request-context.ts";

export interface RelayRoute {
  readonly shape: Shape;
  /** What comes before the relayed path: fixed, or found in the request's path. */
  readonly prefix: string | ((pathname: string) => string);
  /** A file upload, the one relayed form. */
  readonly upload: boolean;
}

export function resourceRelay(forward: Forward, bodyLimits: BodyLimits, access: RelayAccess, { shape, prefix, upload }: RelayRoute) {
  return async ({ request }: { request: Request }) => {
    access(request, true);
    refuseFormBody(request, upload);
    const context = contextOf(request);
    const before = typeof prefix === "string" ? prefix : prefix(context.url.pathname);
    return context.answer(forward(await resourceCallFrom(request, V1_RESOURCE, shape, before, bodyLimits)));
  };
}
