import type { Upgrade } from "./web-sockets.ts";

/** What the program needs from a JavaScript runtime. Everything else is web-standard. */
export interface ServeOptions {
  hostname: string;
  port: number;
  /**
   * Answer a request. `upgrade` turns it into a WebSocket (web-sockets.ts); what it returns is
   * what `fetch` must return then (Bun: nothing, Deno: its 101 response).
   */
  fetch: (request: Request, upgrade: Upgrade) => Response | undefined | Promise<Response | undefined>;
  /** WebSocket pings: a socket quiet this long is pinged, and closed when no pong follows. */
  socketIdleSeconds?: number;
  /** Serve HTTPS and WSS instead of plain HTTP. */
  tls?: TlsMaterial;
  /** Share the port with sibling worker processes (SO_REUSEPORT: the kernel spreads connections). */
  reusePort?: boolean;
}

/** A PEM certificate chain and its private key (the files' contents). */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}

export interface RunningServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly hostname: string;
  /** Stop listening; with `closeActive`, also cut open connections. */
  stop(closeActive?: boolean): Promise<void>;
  /**
   * Serve new connections with another certificate; connections already open (sessions too)
   * keep theirs. Neither runtime can swap the certificate of a listening server, so a new
   * listener takes the port and the old one stops accepting.
   */
  reloadTls(tls: TlsMaterial): Promise<void>;
}

export interface RuntimeAdapter {
  readonly name: "bun" | "deno";
  readonly version: string;
  serve(options: ServeOptions): Promise<RunningServer>;
  /** `fetch` for upstream calls, with the runtime's own idle cut-offs off: ours apply instead. */
  readonly upstreamFetch: typeof fetch;
  /**
   * Before serving: make the process fit to hold many upstream calls at once. May replace the
   * process image (same pid) and so never return; returns a warning when it could not.
   */
  prepareForServing(): string | undefined;
  /**
   * How to start this same program again (for worker processes): the command line, and the
   * environment additions that make the new process fit to serve without replacing itself.
   */
  selfCommand(): { argv: string[]; env: Record<string, string> };
  /**
   * Hand back what start-up left behind (its garbage, the compiled code of functions that ran
   * only then, the allocator's free pages), once the process is idle. Pauses the process ~15 ms
   * and makes the next calls compile their code again. Resolves with the process's RSS before
   * and after, in bytes, once it is done. Absent where the runtime has no way (Deno).
   */
  releaseIdleMemory?(): Promise<{ rssBefore: number; rssAfter: number }>;
}
