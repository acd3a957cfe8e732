/** Reading an SSE response the way a client does: events with their arrival times. */
export interface ArrivedEvent {
  data: string;
  at: number;
}

export async function readEvents(response: Response): Promise<ArrivedEvent[]> {
  const events: ArrivedEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body!) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let cut = buffer.indexOf("\n\n"); cut !== -1; cut = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const lines = block.split("\n").filter((l) => l.startsWith("data: "));
      // a comment-only block (": keep-alive" heartbeats) is no event, as for any SSE parser
      if (lines.length === 0) continue;
      events.push({ data: lines.map((l) => l.slice(6)).join("\n"), at: performance.now() });
    }
  }
  if (buffer.trim() !== "") events.push({ data: `<partial>${buffer}`, at: performance.now() });
  return events;
}

/** The assistant text assembled from chat chunks. */
export function contentOf(events: ArrivedEvent[]): string {
  let text = "";
  for (const e of events) {
    if (e.data === "[DONE]") continue;
    const chunk = JSON.parse(e.data) as { choices?: Array<{ delta?: { content?: string } }> };
    for (const c of chunk.choices ?? []) text += c.delta?.content ?? "";
  }
  return text;
}
