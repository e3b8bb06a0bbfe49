# Helm's production image.
#
#   docker build -t ghost/helm:latest .                        (owners: pulls node:20-bookworm-slim)
#   docker build --network=host --build-arg BASE_IMAGE=helm-local/node:20 -t ghost/helm:latest .
#                      (machines that cannot pull: scripts/build-node-base.sh makes that base)
#
# `npm ci` needs the npm registry: with a legacy builder or an engine without a bridge, build with
# --network=host. Install scripts are skipped (--ignore-scripts): none of Helm's dependencies needs
# one (the native add-ons cpu-features and msgpackr-extract are optional and have JS fallbacks),
# and it keeps the build free of compilers and of code run at install time.
#
# Runs as root, on purpose: Helm drives the engine through /var/run/docker.sock, which is root:docker
# on the host with a docker group id that differs from host to host; socket access is root-equivalent
# anyway, so a non-root user in the image would add a per-host group_add setting and no isolation.
# Memory (run log, key) lives in the volume at /app/memory.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build \
 && test -f dist/src/main.js \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${BASE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production HELM_MEMORY_DIR=/app/memory
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/memory
LABEL ghost.role=helm org.opencontainers.image.title=helm
CMD ["node", "dist/src/main.js"]
