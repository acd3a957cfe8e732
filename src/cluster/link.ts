/**
 * Requests and replies over a Node-style IPC channel (child_process with an "ipc" stdio, on Bun
 * and Deno alike). Either end may ask; a reply carries the id of what it answers. A Failure
 * thrown by the answering side arrives as the same Failure, so a worker can throw the primary's
 * rate-limit refusal as if it had decided it itself. What each end may send is one typed union
 * per direction (messages.ts): `Link<Out, In>` sends Out and hands In to its handler.
 */
import { Failure } from "../lib/failure.ts";

export interface Channel {
  send(message: unknown): unknown;
  on(event: "message" | "error" | "disconnect", listener: (message: unknown) => void): unknown;
  readonly connected?: boolean;
}

type Message = { readonly t: string };
type Reply = { readonly t: "reply"; re: number; value?: unknown; failure?: { kind: Failure["kind"]; message: string; detail: Failure["detail"] } };
/** A message on the wire: `id` when it asks for an answer; a reply names what it answers in `re`. */
type Envelope = (Message & { id?: number; re?: undefined }) | Reply;

/** Answer a request: a value, or a Failure to be thrown on the asking side. */
export type Respond = (result: unknown) => void;
export type Handler<In> = (message: In, respond: Respond | undefined) => void;

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class Link<Out extends Message, In extends Message> {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private closed = false;

  /**
   * `onClosed` runs once when the other end is gone: the channel disconnected, or a send failed.
   * Bun and Deno report a send to a dead process as a later "error" event, not a throw; with
   * no listener that event would kill this process too.
   */
  constructor(
    private readonly channel: Channel,
    handler: Handler<In>,
    private readonly onClosed: () => void = () => {},
  ) {
    channel.on("error", () => this.close());
    channel.on("disconnect", () => this.close());
    channel.on("message", (raw) => {
      const message = raw as Envelope;
      if (message.re !== undefined) {
        this.settle(message as Reply);
        return;
      }
      const id = message.id;
      const respond: Respond | undefined =
        id === undefined
          ? undefined
          : (result) => {
              if (result instanceof Failure) this.send({ t: "reply", re: id, failure: { kind: result.kind, message: result.message, detail: result.detail } });
              else this.send({ t: "reply", re: id, value: result });
            };
      handler(message as unknown as In, respond);
    });
  }

  /** Fire and forget. */
  notify(message: Out): void {
    this.send(message);
  }

  /** Ask and wait for the answer; rejects after `timeoutMs` or when the link closes. */
  request<T>(message: Out, timeoutMs: number): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the link to the other process is closed"));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to "${message.t}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.send({ ...message, id });
    });
  }

  /** The other end is gone: every pending request fails now rather than at its timeout. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, waiting] of this.waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error("the link to the other process closed"));
      this.waiting.delete(id);
    }
    this.onClosed();
  }

  private settle(message: Reply): void {
    const waiting = this.waiting.get(message.re);
    if (!waiting) return; // timed out already
    this.waiting.delete(message.re);
    clearTimeout(waiting.timer);
    if (message.failure) waiting.reject(new Failure(message.failure.kind, message.failure.message, message.failure.detail));
    else waiting.resolve(message.value);
  }

  private send(message: Envelope): void {
    if (this.closed) return;
    if (this.channel.connected === false) {
      this.close();
      return;
    }
    try {
      this.channel.send(message);
    } catch {
      this.close();
    }
  }
}
