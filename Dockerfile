# syntax=docker/dockerfile:1
# azure-proxy as a container: the single binary on a distroless base.
#
#   docker build -t azure-proxy .
#   docker run -p 8000:8000 -e AZURE_OPENAI_ENDPOINT=... -e AZURE_OPENAI_API_KEY=... -e AUTH_KEY=... azure-proxy
#
# Without a registry or a Docker engine, scripts/build-image.sh builds the same final stage with
# buildah from the host's dist/azure-proxy (and proves that the image starts and answers).

# --- build: Node and npm are all the project needs; `npm ci` brings the pinned Bun from npm,
# exactly as on a developer machine and in CI. Debian bookworm, so the binary links against
# the same glibc generation as the runtime stage below.
FROM node:22-bookworm AS build
WORKDIR /src
# Dependencies first: this layer stays cached while only the source changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && ./dist/azure-proxy --version

# --- runtime: Bun's executable needs glibc (libc, libm, libpthread, libdl, the loader) and
# nothing else. distroless/cc is exactly that plus CA certificates, /etc/passwd, a 1777 /tmp
# (large uploads are spooled there) and no shell or package manager for an intruder to use.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/dist/azure-proxy /azure-proxy
# uid 65532 ("nonroot" in distroless): the proxy needs no privileges, and 8000 is above 1024.
USER 65532:65532
# Inside a container the proxy must listen on every interface for `-p 8000:8000` to reach it
# (the binary's default HOST is also 0.0.0.0; stated here so `docker inspect` shows it).
ENV HOST=0.0.0.0 PORT=8000
# Bun's fetch runs 256 requests at once unless told at start; set here, the proxy does not
# have to re-execute itself to raise it (src/runtime/bun.ts)
ENV BUN_CONFIG_MAX_HTTP_REQUESTS=16384
EXPOSE 8000
# No curl in the image: the binary checks itself (GET /healthz on $PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/azure-proxy", "healthcheck"]
# SIGTERM (docker stop) lets the proxy finish requests in flight; give long streams time with
# `docker stop -t 60` or compose's stop_grace_period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/azure-proxy"]
CMD ["serve"]
