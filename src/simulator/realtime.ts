/**
 * Azure's Realtime API over WebSocket, in both shapes: the GA path `/openai/v1/realtime?model=D`
 * (GA event names: response.output_text.delta, response.output_audio.delta, …) and the preview
 * path `/openai/realtime?api-version=DATE&deployment=D` (preview names: response.text.delta,
 * response.audio.delta, …). A session: `session.created` on connect; `session.update` →
 * `session.updated`; `conversation.item.create` → the item added; `response.create` → created,
 * deltas (text, or audio + transcript when the session's modalities say audio), done events and
 * `response.done` with usage. Binary frames are echoed back as they came (a relay check).
 *
 * Faults: a handshake cannot carry a body, so handshake faults are queued by the test on this
 * simulator (`POST /_sim/realtime/handshake` with a directive such as `[sim status=429
 * retry_after=3]`, used by the next handshake; `times=N` for N of them; `first_byte_ms=MS` answers
 * that late). Session faults ride in
 * the item text as for chat (faults.ts): reset_after=K closes the socket (1011) after K events of
 * the response, stall_after=K stall_ms=MS pauses, chunk_ms paces, reply=TEXT sets the answer;
 * flood_mb=N sends N MiB of audio deltas first (as fast as the socket takes them).
 */
import type { Upgrade } from "../runtime/web-sockets.ts";
import { AZURE_BODIES } from "./azure-errors.ts";
import { faultsIn } from "./faults.ts";
import { azureHeaders, faultResponse } from "./http.ts";
import { json } from "./operations/context.ts";
import type { Recorder } from "./recorder.ts";
import { DATED_VERSION } from "./routing.ts";
import { type Shape, SimSession, sleep } from "./realtime-session.ts";

export interface RealtimeSimOptions {
  readonly apiKey: string;
  readonly deployments: Readonly<Record<string, string>>;
  readonly region: string;
  readonly name?: string;
  readonly acceptToken?: (token: string) => boolean;
  readonly recorder: Recorder;
}

export function realtimeSimulator(options: RealtimeSimOptions) {
  const handshakeFaults: string[] = [];

  function queueHandshakeFault(directive: string): void {
    const times = Number(/times=(\d+)/.exec(directive)?.[1] ?? 1);
    for (let i = 0; i < times; i++) handshakeFaults.push(directive);
  }

  async function handle(request: Request, url: URL, upgrade: Upgrade): Promise<Response | undefined> {
    const shape: Shape = url.pathname === "/openai/v1/realtime" ? "ga" : "preview";
    const headers = azureHeaders(options.region, request);
    options.recorder.record(request, url, "");
    const apiVersion = url.searchParams.get("api-version");
    if (shape === "ga" && apiVersion !== null && apiVersion !== "v1" && apiVersion !== "preview")
      return json(AZURE_BODIES.apiVersionNotSupported, 400, headers);
    if (shape === "preview" && (apiVersion === null || !DATED_VERSION.test(apiVersion))) return json(AZURE_BODIES.resourceNotFound, 404, headers);
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    const key = request.headers.get("api-key") ?? url.searchParams.get("api-key");
    const authorised =
      key === options.apiKey || (shape === "ga" && bearer === options.apiKey) || (bearer !== undefined && options.acceptToken?.(bearer) === true);
    if (!authorised) return json(AZURE_BODIES.unauthorized, 401, headers);
    const deployment = shape === "ga" ? url.searchParams.get("model") : url.searchParams.get("deployment");
    const model = deployment ? options.deployments[deployment] : undefined;
    if (!deployment || model === undefined) return json(AZURE_BODIES.deploymentNotFound, 404, headers);
    const fault = handshakeFaults.shift();
    if (fault) {
      const faults = faultsIn(fault, options.name);
      // a deployment slow to accept: the TCP connection is up, the answer comes late
      if (faults.firstByteMs) await sleep(faults.firstByteMs);
      const failure = faultResponse(faults, "Realtime_Connect", apiVersion ?? "v1", headers);
      if (failure) return failure;
    }
    const session = new SimSession(shape, deployment, model, options.name);
    return upgrade(request, {
      protocol: (request.headers.get("sec-websocket-protocol") ?? "")
        .split(",")
        .map((p) => p.trim())
        .includes("realtime")
        ? "realtime"
        : undefined,
      headers: { "x-ms-region": options.region, "apim-request-id": headers.get("apim-request-id")! },
      handlers: {
        open: (socket) => session.open(socket),
        message: (data) => session.message(data),
        close: () => session.close(),
      },
    });
  }

  /** Ephemeral keys this simulator minted: value → deployment and expiry (unix seconds). */
  const minted = new Map<string, { deployment: string; expiresAt: number }>();

  /** POST /openai/v1/realtime/client_secrets and /calls (§ Realtime WebRTC of Azure's docs). */
  async function handleHttp(request: Request, url: URL): Promise<Response> {
    const headers = azureHeaders(options.region, request);
    const body = await request.text();
    options.recorder.completed(options.recorder.record(request, url, body));
    const fault = faultResponse(faultsIn(body, options.name), "Realtime_Create", "v1", headers);
    if (fault) return fault;
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    const keyAuthorised =
      request.headers.get("api-key") === options.apiKey || bearer === options.apiKey || (bearer !== undefined && options.acceptToken?.(bearer) === true);
    const now = Math.floor(Date.now() / 1000);
    if (url.pathname.endsWith("/client_secrets")) {
      if (!keyAuthorised) return json(AZURE_BODIES.unauthorized, 401, headers);
      let parsed: { session?: { model?: string }; expires_after?: { seconds?: number } };
      try {
        parsed = JSON.parse(body);
      } catch {
        return json(AZURE_BODIES.invalidJson, 400, headers);
      }
      const deployment = parsed.session?.model;
      if (!deployment || options.deployments[deployment] === undefined) return json(AZURE_BODIES.deploymentNotFound, 404, headers);
      const value = `ek_${crypto.randomUUID().replaceAll("-", "")}`;
      const expiresAt = now + (parsed.expires_after?.seconds ?? 600);
      minted.set(value, { deployment, expiresAt });
      return json({ value, expires_at: expiresAt, session: { type: "realtime", object: "realtime.session", ...parsed.session } }, 200, headers);
    }
    // calls: an ephemeral key minted here, or the resource's own key with ?model=
    const ephemeral = bearer === undefined ? undefined : minted.get(bearer);
    const deployment = ephemeral && ephemeral.expiresAt > now ? ephemeral.deployment : keyAuthorised ? url.searchParams.get("model") : null;
    if (!deployment) return json(AZURE_BODIES.unauthorized, 401, headers);
    if (!(request.headers.get("content-type") ?? "").startsWith("application/sdp")) {
      return json(
        {
          error: {
            message: "Unsupported content type: expected application/sdp.",
            type: "invalid_request_error",
            param: null,
            code: "unsupported_content_type",
          },
        },
        400,
        headers,
      );
    }
    if (!body.startsWith("v=0"))
      return json({ error: { message: "The SDP offer is invalid.", type: "invalid_request_error", param: null, code: "invalid_offer" } }, 400, headers);
    const callId = `rtc_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
    headers.set("content-type", "application/sdp");
    headers.set("location", `/v1/realtime/calls/${callId}`);
    const answer = `v=0\r\no=- ${Date.now()} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=x-deployment:${deployment}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=setup:passive\r\n`;
    return new Response(answer, { status: 201, headers });
  }

  return { handle, handleHttp, queueHandshakeFault };
}
