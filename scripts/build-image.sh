#!/usr/bin/env bash
# Build the Dockerfile's final stage with buildah, without a Docker engine or a registry, and
# prove the image works: start it, ask it for /healthz from inside and for real chat answers
# from the host, then report its size.
#
# Why not `docker build`: where this runs (CI, air-gapped build hosts) no registry is reachable,
# so neither node:22-bookworm nor distroless can be pulled. The image is therefore assembled
# FROM scratch out of what distroless/cc would have given it: the binary, the exact glibc files
# `ldd` lists for it, CA certificates, a passwd entry for uid 65532 and a 1777 /tmp. Same user,
# entrypoint, env, port and healthcheck as the Dockerfile.
#
#   scripts/build-image.sh                         # build dist/azure-proxy if missing, image, prove, clean up
#   scripts/build-image.sh --binary PATH           # use that binary instead of dist/azure-proxy
#   scripts/build-image.sh --save azure-proxy.tar  # also keep it: `docker load -i azure-proxy.tar`
#
# Needs root, buildah, ldd, curl and ss (`bash .ci/install-deploy-deps` installs them). Uses
# its own buildah storage in a temp dir (vfs driver, chroot isolation: no overlay module, no
# user namespaces needed), so it leaves no containers or images behind on the machine.
# Exit 0 and a line "image size: N MB" when the image answered; non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=dist/azure-proxy
save=""
tag=localhost/azure-proxy:build-image
while [ $# -gt 0 ]; do
  case $1 in
    --binary) binary=$2; shift 2 ;;
    --save) save=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    *) echo "usage: $0 [--binary PATH] [--save FILE.tar] [--tag NAME]" >&2; exit 2 ;;
  esac
done

for tool in buildah ldd curl ss; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (bash .ci/install-deploy-deps)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "build-image: run as root (buildah with chroot isolation)" >&2; exit 1; }

if [ ! -x "$binary" ]; then
  echo "== build $binary"
  node_modules/.bin/bun scripts/build.ts --outfile "$binary"
fi

# Docker's image format, not OCI: OCI image configs cannot hold a HEALTHCHECK.
export BUILDAH_FORMAT=docker
work=$(mktemp -d /tmp/azure-proxy-image.XXXXXX)
bh() { buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }
containers=()
groups=()
cleanup() {
  local status=$?
  # The background containers were started in their own process groups: end exactly those.
  for pgid in "${groups[@]}"; do kill -TERM -- "-$pgid" 2>/dev/null || true; done
  for pgid in "${groups[@]}"; do wait "$pgid" 2>/dev/null || true; done
  for ctr in "${containers[@]}"; do bh rm "$ctr" >/dev/null 2>&1 || true; done
  bh rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
# Interrupted or timed out: still run cleanup (bash skips the EXIT trap on an untrapped signal).
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
  echo "build-image: $*" >&2
  for log in "$work"/*.log; do [ -e "$log" ] && { echo "--- $log" >&2; tail -20 "$log" >&2; }; done
  exit 1
}

echo "== stage the root file system"
root=$work/rootfs
mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot"
cp "$binary" "$root/azure-proxy"
chmod 0755 "$root/azure-proxy"
# The dynamic loader and every shared library the binary names, at the paths the binary asks
# for (cp -L: Debian's are symlinks into /usr/lib). Nothing else: no shell, no coreutils.
libs=$(ldd "$binary" | grep -oE '/[^ ]+' || true)
[ -n "$libs" ] || fail "ldd lists no libraries for $binary (not a dynamically linked ELF?)"
for lib in $libs; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# Bun carries Mozilla's root certificates inside; the system bundle is for NODE_EXTRA_CA_CERTS
# and for code that asks for the system store (TLS-inspecting corporate proxies).
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
# uid/gid 65532 as in distroless: a name for logs and `ps`, a home the user owns, no shell.
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
chown 65532:65532 "$root/home/nonroot"
chmod 0700 "$root/home/nonroot"
# Request bodies over 1 MiB are spooled to a file in /tmp.
chmod 1777 "$root/tmp"

echo "== buildah: FROM scratch"
ctr=$(bh from scratch)
containers+=("$ctr")
mnt=$(bh mount "$ctr")
cp -a "$root/." "$mnt/"
bh umount "$ctr" >/dev/null
# The Dockerfile's runtime settings, one for one (test/deploy/image.test.ts compares them).
# buildah splits --healthcheck on spaces (no JSON form): this gives Docker's
# ["CMD", "/azure-proxy", "healthcheck"], the exec form, no shell needed.
bh config \
  --user 65532:65532 \
  --env HOST=0.0.0.0 --env PORT=8000 --env BUN_CONFIG_MAX_HTTP_REQUESTS=16384 \
  --port 8000/tcp \
  --entrypoint '["/azure-proxy"]' --cmd serve \
  --stop-signal SIGTERM \
  --healthcheck 'CMD /azure-proxy healthcheck' \
  --healthcheck-interval 30s --healthcheck-timeout 5s --healthcheck-start-period 10s --healthcheck-retries 3 \
  --label org.opencontainers.image.title=azure-proxy \
  "$ctr"
bh commit --quiet --format docker "$ctr" "$tag" >/dev/null
bh rm "$ctr" >/dev/null
containers=()

echo "== prove it: start the image, ask it"
free_port() { # a port nothing on 127.0.0.1 answers on
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}
# The simulator takes a port the kernel gives it (port 0) and says which in its log; the
# proxy's port is chosen here (its HEALTHCHECK reads PORT), and chosen again should another
# process take it between the check and the bind (CI runs beside other tests).
sim_port=0
proxy_port=$(free_port)
sim_key=sim-$RANDOM$RANDOM
auth_key=client-$RANDOM$RANDOM$RANDOM

# start NAME ARGS...: a container from the image running /azure-proxy ARGS in the background,
# in its own session so cleanup can end it and everything it started. Sets $started (the
# container); not called in $(...), whose subshell would hide the ids from cleanup.
start() {
  local name=$1
  shift
  local c
  c=$(bh from --pull=never --name "azure-proxy-$name-$$-${#containers[@]}" "$tag")
  containers+=("$c")
  # buildah run has no --env: set it on this working container. 127.0.0.1 only: chroot
  # isolation shares the host's network, and nothing here should be reachable from outside.
  bh config --env HOST=127.0.0.1 --env PORT="$proxy_port" \
    --env AZURE_OPENAI_ENDPOINT="http://127.0.0.1:$sim_port" --env AZURE_OPENAI_API_KEY="$sim_key" \
    --env AUTH_KEY="$auth_key" --env AZURE_OPENAI_API_VERSION=2024-10-21 "$c"
  setsid buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs \
    run --isolation chroot "$c" -- /azure-proxy "$@" >"$work/$name.log" 2>&1 &
  groups+=("$!")
  started=$c
}
start simulator simulate --host 127.0.0.1 --port 0 --key "$sim_key"
for _ in $(seq 1 100); do
  # the line, then its url field wherever it stands in it
  sim_port=$(grep -F '"msg":"simulator listening"' "$work/simulator.log" 2>/dev/null | grep -oE '"url":"http://127\.0\.0\.1:[0-9]+' | head -1 | grep -oE '[0-9]+$' || true)
  [ -n "$sim_port" ] && break
  sleep 0.1
done
[ -n "$sim_port" ] || fail "the simulator never said where it listens"

# The image's own HEALTHCHECK command, run inside the container as its user, until it passes.
healthy=0
for _try in 1 2 3; do
  start proxy serve
  proxy_ctr=$started
  for _ in $(seq 1 100); do
    if bh run --isolation chroot "$proxy_ctr" -- /azure-proxy healthcheck >/dev/null 2>&1; then healthy=1; break; fi
    grep -q "in use" "$work/proxy.log" 2>/dev/null && break
    sleep 0.2
  done
  [ "$healthy" -eq 1 ] && break
  grep -q "in use" "$work/proxy.log" 2>/dev/null || break
  echo "port $proxy_port was taken meanwhile; another"
  proxy_port=$(free_port)
done
[ "$healthy" -eq 1 ] || fail "the HEALTHCHECK command never passed"
echo "healthcheck inside the container: ok"

# The process listening on the port: the binary, as uid 65532 (not root).
pid=$(ss -Htlnp "sport = :$proxy_port" | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2)
[ -n "$pid" ] || fail "nothing listens on 127.0.0.1:$proxy_port"
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" = 65532 ] || fail "the proxy runs as uid $uid, not 65532"
echo "proxy process $pid runs as uid $uid"

url=http://127.0.0.1:$proxy_port/v1/chat/completions
plain=$(curl -sS --max-time 10 -w '\n%{http_code}' "$url" -H "Authorization: Bearer $auth_key" -H 'Content-Type: application/json' \
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello from the image"}]}')
{ [ "$(tail -1 <<<"$plain")" = 200 ] && grep -q '"chat.completion"' <<<"$plain"; } || fail "chat answered: $plain"
echo "chat from the host: 200 chat.completion"
# A body over 1 MiB: spooled to /tmp inside the image, which must be writable for uid 65532.
big=$work/big.json
printf '{"model":"gpt-4o","messages":[{"role":"user","content":"%s"}]}' "$(head -c 2000000 /dev/zero | tr '\0' x)" >"$big"
code=$(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "$url" -H "Authorization: Bearer $auth_key" -H 'Content-Type: application/json' --data-binary "@$big")
[ "$code" = 200 ] || fail "a 2 MB chat answered $code"
echo "2 MB chat from the host: 200"
stream=$(curl -sS -N --max-time 10 "$url" -H "Authorization: Bearer $auth_key" -H 'Content-Type: application/json' \
  -d '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"[sim reply=streamed_from_the_image]"}]}')
{ grep -q '"content":"image"' <<<"$stream" && grep -q 'data: \[DONE\]' <<<"$stream"; } || fail "stream answered: $stream"
echo "streamed chat from the host: events through [DONE]"
denied=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$url" -H 'Authorization: Bearer wrong' -H 'Content-Type: application/json' -d '{}')
[ "$denied" = 401 ] || fail "a wrong key got $denied, not 401"
echo "wrong client key: 401"

echo "== size"
archive=$work/image.tar
bh push --quiet "$tag" "docker-archive:$archive:azure-proxy:latest" >/dev/null 2>&1 || bh push "$tag" "docker-archive:$archive:azure-proxy:latest"
bytes=$(stat -c %s "$archive")
gz_bytes=$(gzip -1 -c "$archive" | wc -c)
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }
echo "files: /azure-proxy $(mb "$(stat -c %s "$binary")") MB, $(wc -w <<<"$libs") glibc files, passwd, group, CA bundle"
echo "image size: $(mb "$bytes") MB (uncompressed; $(mb "$gz_bytes") MB gzipped, as a registry stores it)"
if [ -n "$save" ]; then
  cp "$archive" "$save"
  echo "saved to $save: load it with \`docker load -i $save\` (image azure-proxy:latest)"
fi
