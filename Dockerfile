# syntax=docker/dockerfile:1
# k8s-tailer image: Node 24 runs the TypeScript sources directly (type stripping), so there is no compile step;
# the build stage only installs the production dependencies.
#   docker build -t ghcr.io/k8s-tailer/k8s-tailer:0.1.0 .
#   docker run --rm ghcr.io/k8s-tailer/k8s-tailer:0.1.0 --help

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
LABEL org.opencontainers.image.title="k8s-tailer" \
      org.opencontainers.image.description="Follows Kubernetes container logs through the API and ships each line once, in order, to Loki" \
      org.opencontainers.image.source="https://github.com/k8s-tailer/k8s-tailer" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed numeric uid, so Kubernetes runAsNonRoot can verify it without looking up a name.
RUN groupadd --gid 10001 tailer \
 && useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin tailer \
 && mkdir -p /var/lib/tailer \
 && chown 10001:10001 /var/lib/tailer
WORKDIR /app
ENV NODE_ENV=production \
    TAILER_DATA_DIR=/var/lib/tailer \
    TAILER_HTTP_LISTEN=0.0.0.0:9080
COPY --from=build /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src ./src
COPY proto ./proto
COPY bin ./bin
COPY scripts ./scripts
USER 10001:10001
# The positions file and the spool are the only writes: the root filesystem can stay read-only.
VOLUME ["/var/lib/tailer"]
EXPOSE 9080
# The slim image has no curl: ask node, on the port TAILER_HTTP_LISTEN names.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.TAILER_HTTP_LISTEN || ':9080').split(':').pop() + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node flags: see src/node-flags.ts.
ENTRYPOINT ["node", "--max-semi-space-size=8", "--no-allocation-site-pretenuring", "--initial-old-space-size=96", "/app/src/cli.ts"]
