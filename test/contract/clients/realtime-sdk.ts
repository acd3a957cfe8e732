/**
 * The openai package's Realtime classes, unchanged, against a proxy that serves TLS itself (the
 * classes always dial wss://). Run as its own process so the test's CA is trusted the way a user
 * trusts one (NODE_EXTRA_CA_CERTS). Prints one JSON line per scenario.
 * argv: base URL (https://localhost:PORT), client key, scenario names...
 */
import OpenAI, { AzureOpenAI } from "openai";
import { OpenAIRealtimeWebSocket } from "openai/realtime/websocket";
import { OpenAIRealtimeWS } from "openai/realtime/ws";

const [base, key, ...scenarios] = process.argv.slice(2) as [string, string, ...string[]];

type Realtime = OpenAIRealtimeWS | OpenAIRealtimeWebSocket;

/** A short conversation: wait for the session, ask, collect the answer's text until response.done. */
async function converse(rt: Realtime, deltaType: string): Promise<Record<string, unknown>> {
  const text: string[] = [];
  const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no response.done within 10 s")), 10_000);
    rt.on("error", (e) => reject(e));
    rt.on("event", (event: any) => {
      if (event.type === "session.created") {
        rt.send({
          type: "conversation.item.create",
          item: { type: "message", role: "user", content: [{ type: "input_text", text: "Hi [sim reply=through_the_proxy]" }] },
        } as any);
        rt.send({ type: "response.create" } as any);
      }
      if (event.type === deltaType) text.push(event.delta);
      if (event.type === "response.done") {
        clearTimeout(timer);
        resolve({ text: text.join(""), usage: event.response.usage });
      }
    });
  });
  rt.close();
  return result;
}

for (const scenario of scenarios) {
  try {
    let out: Record<string, unknown>;
    if (scenario === "ws") {
      const rt = new OpenAIRealtimeWS({ model: "gpt-realtime" }, new OpenAI({ baseURL: `${base}/v1`, apiKey: key }));
      out = await converse(rt, "response.output_text.delta");
    } else if (scenario === "ws-azure") {
      const azure = new AzureOpenAI({ endpoint: base, apiKey: key, apiVersion: "2025-04-01-preview", deployment: "gpt-realtime" });
      const rt = await OpenAIRealtimeWS.azure(azure);
      out = await converse(rt, "response.output_text.delta");
    } else if (scenario === "websocket") {
      const rt = new OpenAIRealtimeWebSocket({ model: "gpt-realtime" }, new OpenAI({ baseURL: `${base}/v1`, apiKey: key }));
      out = { ...(await converse(rt, "response.output_text.delta")), protocol: rt.socket.protocol };
    } else if (scenario === "https") {
      const chat = await new OpenAI({ baseURL: `${base}/v1`, apiKey: key }).chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Hi" }],
      });
      out = { reply: chat.choices[0]?.message.content };
    } else throw new Error(`unknown scenario ${scenario}`);
    console.log(JSON.stringify({ scenario, ok: true, ...out }));
  } catch (error) {
    console.log(JSON.stringify({ scenario, ok: false, error: String((error as Error)?.message ?? error) }));
  }
}
process.exit(0);
