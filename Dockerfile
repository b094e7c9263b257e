# AIM in a container: docker build -t aim . && docker run -p 8080:8080 -v aim-data:/data aim
# Build stage: better-sqlite3 compiles from source (no binary downloads), so it needs python3, make and g++.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/aim
ENV npm_config_build_from_source=true
COPY . .
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production AIM_HOST=0.0.0.0 AIM_PORT=8080 AIM_DATA_DIR=/data
WORKDIR /opt/aim
COPY --from=build /opt/aim /opt/aim
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# exec form: node is PID 1's child-free process and receives SIGTERM directly for a graceful stop.
CMD ["node", "packages/server/dist/bin.js"]
