/**
 * Rewrite one top-level string field of a JSON object *in its text*, leaving every other byte
 * as the client sent it. Re-serialising a parsed body would silently change it: integers above
 * 2^53 (a `seed`, a token id) lose precision and `-0` becomes `0`. The proxy promises to forward
 * what it does not understand untouched, so it edits only the field it must.
 *
 * The input must already be valid JSON whose top level is an object (the caller parsed it).
 */
interface Entry {
  readonly key: string;
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly valueStart: number;
  readonly valueEnd: number;
}

/** The top-level members of a JSON object text, with where each key and value stands. */
function topLevelEntries(json: string): { open: number; entries: Entry[] } {
  const entries: Entry[] = [];
  let i = skipSpace(json, 0);
  if (json[i] !== "{") throw new TypeError("top level is not an object");
  const open = i;
  i = skipSpace(json, i + 1);
  while (i < json.length && json[i] !== "}") {
    const keyStart = i;
    const keyEnd = skipString(json, i);
    const key = JSON.parse(json.slice(keyStart, keyEnd)) as string;
    i = skipSpace(json, keyEnd);
    const valueStart = skipSpace(json, i + 1); // past ':'
    const valueEnd = skipValue(json, valueStart);
    entries.push({ key, keyStart, keyEnd, valueStart, valueEnd });
    i = skipSpace(json, valueEnd);
    if (json[i] === ",") i = skipSpace(json, i + 1);
  }
  return { open, entries };
}

/**
 * The first top-level key that appears more than once, if any. Such a body means two things:
 * JSON.parse (what the proxy validates) keeps the last value, while another parser upstream
 * may keep the first, so what was checked would not be what is served (RFC 8259 §4: names
 * "SHOULD be unique"; behaviour with duplicates is unpredictable). Names that differ only in
 * case count as the same: ASP.NET Core's web JSON defaults (`PropertyNameCaseInsensitive`) read
 * `Model` as `model`, and no OpenAI parameter is spelled in capitals.
 */
export function duplicateTopLevelKey(json: string): string | undefined {
  const seen = new Set<string>();
  for (const { key } of topLevelEntries(json).entries) {
    const folded = key.toLowerCase();
    if (seen.has(folded)) return key;
    seen.add(folded);
  }
  return undefined;
}

/** Replace [start, end) spans of `json`, given in ascending order. */
function splice(json: string, spans: ReadonlyArray<readonly [number, number, string]>): string {
  let out = "";
  let last = 0;
  for (const [start, end, text] of spans) {
    out += json.slice(last, start) + text;
    last = end;
  }
  return out + json.slice(last);
}

export function setTopLevelString(json: string, key: string, value: string): string {
  return setTopLevelValue(json, key, value);
}

/** Set a top-level member to any JSON value, keeping every other byte. */
export function setTopLevelValue(json: string, key: string, value: unknown): string {
  const { open, entries } = topLevelEntries(json);
  const encoded = JSON.stringify(value);
  const matches = entries.filter((e) => e.key === key);
  if (matches.length === 0) {
    const sep = entries.length === 0 ? "" : ",";
    return `${json.slice(0, open + 1)}${JSON.stringify(key)}:${encoded}${sep}${json.slice(open + 1)}`;
  }
  // JSON.parse keeps the last duplicate; replace them all so no reader sees the old value.
  return splice(
    json,
    matches.map((e) => [e.valueStart, e.valueEnd, encoded] as const),
  );
}

/**
 * Rename a top-level key, keeping its value's exact text. No change when `from` is absent or
 * `to` is already there (the client's explicit value wins).
 */
export function renameTopLevelKey(json: string, from: string, to: string): string {
  const { entries } = topLevelEntries(json);
  if (entries.some((e) => e.key === to)) return json;
  const renamed = JSON.stringify(to);
  return splice(
    json,
    entries.filter((e) => e.key === from).map((e) => [e.keyStart, e.keyEnd, renamed] as const),
  );
}

function skipSpace(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** `i` at an opening quote; returns the index after the closing quote. */
function skipString(s: string, i: number): number {
  // indexOf runs natively: a long message is a few calls, not a JS step per character
  for (let q = s.indexOf('"', i + 1); q !== -1; q = s.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (s.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
  }
  throw new SyntaxError("unterminated string");
}

const STRUCTURE = /["{}[\]]/g;

function skipValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return skipString(s, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    // jump from one quote or bracket to the next instead of stepping through every character
    for (;;) {
      STRUCTURE.lastIndex = i;
      const found = STRUCTURE.exec(s);
      if (found === null) throw new SyntaxError("unterminated container");
      i = found.index;
      const d = s[i];
      if (d === '"') {
        i = skipString(s, i);
        continue;
      }
      if (d === "{" || d === "[") depth++;
      else {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
  }
  // number, true, false, null: runs until a delimiter
  while (i < s.length && !",}] \n\r\t".includes(s[i]!)) i++;
  return i;
}
