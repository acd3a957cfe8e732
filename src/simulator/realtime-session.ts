/**
 * One simulated Realtime session once the handshake is accepted (realtime.ts): Azure's event
 * sequence in the GA or the preview names, session updates, items, responses with text or audio
 * deltas and usage, binary echo, and the faults a test writes into an item's text.
 */
import type { ServerSocket } from "../runtime/web-sockets.ts";
import { faultsIn, type Faults } from "./faults.ts";

export type Shape = "ga" | "preview";

const NAMES = {
  ga: { text: "response.output_text", audio: "response.output_audio", transcript: "response.output_audio_transcript", itemAdded: "conversation.item.added" },
  preview: { text: "response.text", audio: "response.audio", transcript: "response.audio_transcript", itemAdded: "conversation.item.created" },
} as const;

let eventSeq = 0;
const eventId = () => `event_${(++eventSeq).toString(36).padStart(8, "0")}`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tokensOf = (text: string) => Math.max(1, Math.ceil(text.length / 4));

export class SimSession {
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
