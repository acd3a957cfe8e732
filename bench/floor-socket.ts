/**
 * By hand, beside the bun floor: `bun bench/cpu.ts --no-ours --floor bench/floor-socket.ts`.
 * The floor (floor-proxy.ts) with Bun's fetch replaced by the least HTTP/1.1 client that can
 * relay the mock's answers: kept-alive `Bun.connect` sockets, the request written as one string,
 * the answer's head parsed for its status and Content-Length. It answers what the decision in
 * README.md (Performance) asks: how much of the floor is Bun's fetch (its own "HTTP Client"
 * thread, its wake-ups) rather than the server or the kernel. Not a client the proxy could use:
 * no chunked bodies, no TLS, no timeouts, no errors beyond dropping the socket.
 */
import type { Socket } from "bun";
import { FLOOR, serveFloor } from "./lib/floor-env.ts";

const upstream = new URL(FLOOR.upstream);
const head = `POST ${upstream.pathname}${upstream.search} HTTP/1.1\r\nhost: ${upstream.host}\r\napi-key: ${FLOOR.upstreamKey}\r\ncontent-type: application/json\r\n`;
const decoder = new TextDecoder();

interface Pending {
  resolve(response: Response): void;
  reject(error: Error): void;
}
interface Conn {
  socket: Socket<Conn>;
  pending: Pending | undefined;
  buffer: Uint8Array;
}

const idle: Conn[] = [];

function parse(conn: Conn): void {
  const bytes = conn.buffer;
  let end = -1;
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) {
      end = i + 1;
      break;
    }
  }
  if (end < 0) return;
  const text = decoder.decode(bytes.subarray(0, end));
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? 0);
  if (bytes.length < end + length) return;
  const status = Number(text.slice(9, 12));
  const headers: Record<string, string> = {};
  for (const line of text.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  delete headers["content-length"];
  delete headers.connection;
  delete headers["keep-alive"];
  const body = bytes.slice(end, end + length);
  conn.buffer = bytes.subarray(end + length);
  const { resolve } = conn.pending!;
  conn.pending = undefined;
  idle.push(conn);
  resolve(new Response(body, { status, headers }));
}

function connect(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const conn = { pending: undefined, buffer: new Uint8Array(0) } as unknown as Conn;
    Bun.connect<Conn>({
      hostname: upstream.hostname,
      port: Number(upstream.port),
      data: conn,
      socket: {
        open(socket) {
          conn.socket = socket;
          resolve(conn);
        },
        data(socket, chunk) {
          const c = socket.data;
          if (c.buffer.length === 0) c.buffer = new Uint8Array(chunk);
          else {
            const joined = new Uint8Array(c.buffer.length + chunk.length);
            joined.set(c.buffer);
            joined.set(chunk, c.buffer.length);
            c.buffer = joined;
          }
          if (c.pending) parse(c);
        },
        close(socket) {
          const c = socket.data;
          const at = idle.indexOf(c);
          if (at >= 0) idle.splice(at, 1);
          c.pending?.reject(new Error("upstream closed"));
        },
        connectError: (_socket, error) => reject(error),
      },
    });
  });
}

async function send(body: string): Promise<Response> {
  const conn = idle.pop() ?? (await connect());
  return new Promise((resolve, reject) => {
    conn.pending = { resolve, reject };
    conn.socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

serveFloor(async (request) => send(await request.text()));
