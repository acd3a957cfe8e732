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
import type { ServerSocket, Upgrade } from "../runtime/web-sockets.ts";
import { AZURE_BODIES } from "./azure-errors.ts";
import { faultsIn, type Faults } from "./faults.ts";
import { azureHeaders, faultResponse } from "./http.ts";
import { json } from "./operations/context.ts";
import type { Recorder } from "./recorder.ts";
import { DATED_VERSION } from "./routing.ts";

export interface RealtimeSimOptions {
  readonly apiKey: string;
  readonly deployments: Readonly<Record<string, string>>;
  readonly region: string;
  readonly name?: string;
  readonly acceptToken?: (token: string) => boolean;
  readonly recorder: Recorder;
}

type Shape = "ga" | "preview";

const NAMES = {
  ga: { text: "response.output_text", audio: "response.output_audio", transcript: "response.output_audio_transcript", itemAdded: "conversation.item.added" },
  preview: { text: "response.text", audio: "response.audio", transcript: "response.audio_transcript", itemAdded: "conversation.item.created" },
} as const;

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

let eventSeq = 0;
const eventId = () => `event_${(++eventSeq).toString(36).padStart(8, "0")}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tokensOf = (text: string) => Math.max(1, Math.ceil(text.length / 4));

class SimSession {
  private socket: ServerSocket | undefined;
  private closed = false;
  private readonly session: Record<string, unknown>;
  private lastText = "";
  private inputAudioBytes = 0;

  constructor(
    private readonly shape: Shape,
    deployment: string,
    model: string,
    private readonly simulatorName: string | undefined,
  ) {
    const id = `sess_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
    this.session =
      shape === "ga"
        ? { type: "realtime", object: "realtime.session", id, model: deployment, output_modalities: ["text"], instructions: "", underlying_model: model }
        : { object: "realtime.session", id, model: deployment, modalities: ["text"], instructions: "", voice: "alloy" };
  }

  open(socket: ServerSocket): void {
    this.socket = socket;
    this.send({ type: "session.created", session: this.session });
  }

  close(): void {
    this.closed = true;
  }

  message(data: string | Uint8Array): void {
    if (typeof data !== "string") {
      this.socket!.send(data);
      return;
    }
    // biome-ignore lint/suspicious/noExplicitAny: a client event is any JSON; each case reads what its type has
    let event: Record<string, any>;
    try {
      event = JSON.parse(data);
    } catch {
      this.error("invalid_request_error", "The event is not valid JSON.", null);
      return;
    }
    switch (event.type) {
      case "session.update":
        Object.assign(this.session, event.session ?? {});
        this.send({ type: "session.updated", session: this.session });
        return;
      case "conversation.item.create": {
        const item = { id: `item_${crypto.randomUUID().slice(0, 8)}`, object: "realtime.item", status: "completed", ...event.item };
        const texts = (item.content ?? []).map((c: { text?: string; transcript?: string }) => c.text ?? c.transcript ?? "").join(" ");
        if (texts) this.lastText = texts;
        this.send({ type: NAMES[this.shape].itemAdded, previous_item_id: null, item });
        if (this.shape === "ga") this.send({ type: "conversation.item.done", previous_item_id: null, item });
        return;
      }
      case "input_audio_buffer.append":
        this.inputAudioBytes += typeof event.audio === "string" ? Math.floor((event.audio.length * 3) / 4) : 0;
        return;
      case "input_audio_buffer.commit":
        this.send({ type: "input_audio_buffer.committed", previous_item_id: null, item_id: `item_${crypto.randomUUID().slice(0, 8)}` });
        return;
      case "response.create":
        void this.respond(event.response ?? {});
        return;
      default:
        this.error(
          "invalid_request_error",
          `Invalid value: '${String(event.type)}'. Supported values are: 'session.update', 'conversation.item.create', 'input_audio_buffer.append', 'input_audio_buffer.commit' and 'response.create'.`,
          "type",
        );
        return;
    }
  }

  private async respond(options: { instructions?: string }): Promise<void> {
    const faults = faultsIn(`${this.lastText} ${options.instructions ?? ""}`, this.simulatorName);
    const modalities = (this.shape === "ga" ? this.session.output_modalities : this.session.modalities) as string[] | undefined;
    const audio = modalities?.includes("audio") ?? false;
    const reply = faults.reply ?? "Hello from the simulated realtime model.";
    const words = reply.split(/(?<= )/);
    const names = NAMES[this.shape];
    const response_id = `resp_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
    const item_id = `item_${crypto.randomUUID().slice(0, 8)}`;
    const ids = { response_id, item_id, output_index: 0, content_index: 0 };
    const steps: Record<string, unknown>[] = [
      { type: "response.created", response: { id: response_id, object: "realtime.response", status: "in_progress", output: [], usage: null } },
      {
        type: "response.output_item.added",
        response_id,
        output_index: 0,
        item: { id: item_id, type: "message", role: "assistant", status: "in_progress", content: [] },
      },
      { type: "response.content_part.added", ...ids, part: audio ? { type: "audio", transcript: "" } : { type: "text", text: "" } },
    ];
    for (const word of words) {
      if (audio) {
        steps.push({ type: `${names.audio}.delta`, ...ids, delta: btoa(String.fromCharCode(...new Uint8Array(480))) });
        steps.push({ type: `${names.transcript}.delta`, ...ids, delta: word });
      } else steps.push({ type: `${names.text}.delta`, ...ids, delta: word });
    }
    if (audio) {
      steps.push({ type: `${names.audio}.done`, ...ids });
      steps.push({ type: `${names.transcript}.done`, ...ids, transcript: reply });
    } else steps.push({ type: `${names.text}.done`, ...ids, text: reply });
    const inputText = tokensOf(this.lastText);
    const inputAudio = Math.ceil(this.inputAudioBytes / 800);
    const outputText = words.length;
    const outputAudio = audio ? words.length * 5 : 0;
    const usage = {
      total_tokens: inputText + inputAudio + outputText + outputAudio,
      input_tokens: inputText + inputAudio,
      output_tokens: outputText + outputAudio,
      input_token_details: { text_tokens: inputText, audio_tokens: inputAudio, cached_tokens: 0 },
      output_token_details: { text_tokens: outputText, audio_tokens: outputAudio },
    };
    steps.push(
      { type: "response.content_part.done", ...ids, part: audio ? { type: "audio", transcript: reply } : { type: "text", text: reply } },
      { type: "response.output_item.done", response_id, output_index: 0, item: { id: item_id, type: "message", role: "assistant", status: "completed" } },
      { type: "response.done", response: { id: response_id, object: "realtime.response", status: "completed", usage } },
    );
    // flood_mb=N: N MiB of audio deltas before the rest (a client that cannot keep up)
    const flood = Number(/\[sim [^\]]*flood_mb=(\d+)/.exec(this.lastText)?.[1] ?? 0);
    if (flood > 0) {
      const chunk = btoa(String.fromCharCode(...new Uint8Array(48 * 1024)));
      const deltas = Array.from({ length: flood * 16 }, () => ({ type: `${names.audio}.delta`, ...ids, delta: chunk }));
      steps.splice(3, 0, ...deltas);
      faults.chunkMs = 0;
    }
    this.inputAudioBytes = 0;
    await this.play(steps, faults);
  }

  private async play(steps: Record<string, unknown>[], faults: Faults): Promise<void> {
    for (let i = 0; i < steps.length; i++) {
      if (this.closed) return;
      if (faults.resetAfter !== undefined && i >= faults.resetAfter) {
        this.socket!.close(1011, "simulated server failure");
        return;
      }
      if (faults.stallAfter !== undefined && i === faults.stallAfter) await sleep(faults.stallMs ?? 60_000);
      else if (i > 0 && faults.chunkMs > 0) await sleep(faults.chunkMs);
      if (this.closed) return;
      this.send(steps[i]!);
    }
  }

  private error(type: string, message: string, param: string | null): void {
    this.send({ type: "error", error: { type, code: null, message, param, event_id: null } });
  }

  private send(event: Record<string, unknown>): void {
    if (this.closed) return;
    this.socket!.send(JSON.stringify({ event_id: eventId(), ...event }));
  }
}
