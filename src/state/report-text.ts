/**
 * Names in the usage report are not all the operator's: with `any_model` (and always with the
 * environment-only config) the model is whatever a client sent, and it reaches the ledger when
 * Azure answers it with a 404. So a name is made harmless where it is shown:
 * - in CSV, a field that begins with = + - @ (or a tab or carriage return) is a formula to
 *   Excel, LibreOffice and Google Sheets (OWASP "CSV Injection"): `=HYPERLINK(...)` in a model
 *   name would run in the admin's spreadsheet. A leading apostrophe makes it text there.
 * - in the terminal table, control characters (ESC sequences recolour, retitle or rewrite an
 *   operator's terminal) are shown as \u escapes instead.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;
// C0 controls, DEL and the C1 controls (U+009B is a one-byte CSI)
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this regex's job
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function csvField(value: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function terminalText(value: string): string {
  return value.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
