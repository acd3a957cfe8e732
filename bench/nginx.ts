/**
 * The yardstick: Debian's nginx doing the same job as the proxy on the hot path, with its own
 * prefix, config, pid file and logs in a temp dir (never the system nginx). It checks the
 * client key, rewrites /v1/chat/completions to the dated Azure path with api-version, swaps the
 * client's key for the api-key header, keeps upstream connections alive, and does not buffer
 * SSE. One worker, because the proxy is one JS thread; both get the same core in run.ts.
 * access_log stays on, as the proxy logs each request at its default level too.
 */
import { mkdirSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { start, waitForHttp, type Child } from "./lib/procs.ts";

export interface NginxOptions {
  dir: string;
  port: number;
  upstreamPort: number;
  upstreamKey: string;
  clientKey: string;
  deployment: string;
  apiVersion: string;
  /** null: not pinned (the both-cores comparison in phases/workers.ts) */
  core: number | null;
  /** worker_processes (default 1) */
  workers?: number;
}

export async function startNginx(o: NginxOptions): Promise<Child> {
  for (const sub of ["logs", "tmp"]) mkdirSync(join(o.dir, sub), { recursive: true });
  // workers drop to `nobody` when started as root; they only ever write under tmp/
  chmodSync(join(o.dir, "tmp"), 0o777);
  const conf = `
daemon off;
master_process on;
worker_processes ${o.workers ?? 1};
worker_rlimit_nofile 16384;
pid ${o.dir}/nginx.pid;
error_log ${o.dir}/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log ${o.dir}/logs/access.log;
  client_body_temp_path ${o.dir}/tmp/body;
  proxy_temp_path ${o.dir}/tmp/proxy;
  fastcgi_temp_path ${o.dir}/tmp/fastcgi;
  uwsgi_temp_path ${o.dir}/tmp/uwsgi;
  scgi_temp_path ${o.dir}/tmp/scgi;
  keepalive_requests 1000000;
  upstream azure {
    server 127.0.0.1:${o.upstreamPort};
    # idle upstream connections kept per worker: enough for the 1000-stream phase, so nginx
    # is measured well configured
    keepalive 1024;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${o.port} backlog=4096;
    location = /v1/chat/completions {
      if ($http_authorization != "Bearer ${o.clientKey}") { return 401; }
      proxy_pass http://azure/openai/deployments/${o.deployment}/chat/completions?api-version=${o.apiVersion};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "";
      proxy_set_header api-key "${o.upstreamKey}";
      proxy_buffering off;
      proxy_read_timeout 600s;
    }
  }
}
`;
  const file = join(o.dir, "nginx.conf");
  writeFileSync(file, conf);
  const child = start("nginx", ["nginx", "-p", o.dir, "-c", file, "-e", `${o.dir}/logs/error.log`], { core: o.core, log: join(o.dir, "logs/stdout.log") });
  await waitForHttp(`http://127.0.0.1:${o.port}/`, 10_000);
  return child;
}
