/** Request ids: the client's own when it sent a sane one (so logs join up), else a fresh UUID. */
const SANE_ID = /^[\w.:@=+/-]{1,128}$/;

export function requestIdFrom(header: string | null): string {
  return header !== null && SANE_ID.test(header) ? header : crypto.randomUUID();
}
