// A client that reads one byte per second from a long SSE stream, for `seconds`, then hangs up.
//   node bench/slow-reader.mjs <port> <path> <header-name> <header-value> <body> <seconds>
// Plain JS under Node, not Bun: Node's socket.pause() stops reading from the kernel, so the TCP
// window really closes and the proxy feels the backpressure; Bun's node:net keeps reading into
// its own buffer while paused (measured here: +1 MB within 3 s), which would hide it.
import { connect } from "node:net";

const [port, path, headerName, headerValue, body, seconds] = process.argv.slice(2);
const socket = connect(Number(port), "127.0.0.1");
socket.write(
  `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${headerName}: ${headerValue}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
);
socket.pause();
let read = 0;
let first = "";
const timer = setInterval(() => {
  const byte = socket.read(1);
  if (byte) {
    read += 1;
    if (first.length < 12) first += byte.toString("latin1");
  }
}, 1000);
socket.on("error", () => {});
setTimeout(() => {
  clearInterval(timer);
  socket.destroy();
  console.log(JSON.stringify({ bytes_read: read, starts_with: first, buffered_in_client: socket.readableLength }));
}, Number(seconds) * 1000);
