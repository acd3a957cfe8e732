/**
 * The certificate and key for `server.tls`, read from their files (at start, and again on each
 * reload, so a renewed certificate is served without a restart). Every way the files can be
 * wrong is an error that names the file: missing, unreadable, not PEM, or a key that does not
 * belong to the certificate.
 */
import { readFileSync } from "node:fs";
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { Config } from "../config/schema.ts";
import type { TlsMaterial } from "../runtime/types.ts";

export function readTlsFiles(tls: Config["server"]["tls"]): TlsMaterial | undefined {
  if (!tls) return undefined;
  const read = (field: string, path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new Error(`server.tls.${field}: cannot read '${path}' (${(error as { code?: string }).code ?? (error as Error).message})`);
    }
  };
  const cert = read("cert_file", tls.cert_file);
  const key = read("key_file", tls.key_file);
  if (!cert.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`server.tls.cert_file: '${tls.cert_file}' holds no PEM certificate`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new Error(`server.tls.key_file: '${tls.key_file}' holds no PEM private key`);
  let fits: boolean;
  try {
    // node:tls createSecureContext would check this on Bun, but Deno's does not
    fits = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    throw new Error(`server.tls: '${tls.cert_file}' or '${tls.key_file}' cannot be parsed (${(error as Error).message})`);
  }
  if (!fits) throw new Error(`server.tls: the key in '${tls.key_file}' does not fit the certificate in '${tls.cert_file}'`);
  return { cert, key };
}
