# Two stages: the build stage compiles TypeScript with the dev dependencies; the runtime stage has the production
# dependencies and the compiled output only. `scripts/prod-smoke` performs the runtime stage's install and start steps
# in a scratch folder (there is no Docker engine on our machines), so keep the two in step.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY src ./src
COPY adapters ./adapters
# dist/src, dist/adapters and dist/proto (the gRPC server and reflection read the .proto files at start).
RUN npm run build

FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The embedded database and the emulators' state live in DATA_DIR: writable by the unprivileged user only.
RUN mkdir -p /var/lib/billing-adapter && chown node:node /var/lib/billing-adapter
ENV DATA_DIR=/var/lib/billing-adapter
USER node
# gRPC, HTTP (webhooks, /healthz, /readyz, /metrics), the in-process emulators.
EXPOSE 50051 8080 8091
# Liveness over HTTP with node itself (the slim image has no curl). Assumes HOST is 0.0.0.0 or loopback.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and handles SIGTERM itself (drains gRPC, flushes events, exits 0), so `docker stop` is graceful; no
# npm or shell in between to swallow the signal. The service spawns no children, so no init is needed to reap
# zombies (`docker run --init` adds tini if you want one anyway).
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
