# syntax=docker/dockerfile:1
# commerce-mcp: build with the TypeScript compiler, run plain Node as a non-root user.
#   docker build -t commerce-mcp .
#   docker run -e DATABASE_URL=postgres://commerce_owner:…@db:5432/commerce -p 3000:3000 commerce-mcp
# Without DATABASE_URL the image would start an embedded PostgreSQL under DATA_DIR (development only).

ARG NODE_IMAGE=node:20-slim

# --- build: every dependency, compile src/ to dist/ -------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# postinstall patches the postgres driver (scripts/patch-postgres.mjs): it must be there first.
COPY scripts/patch-postgres.mjs ./scripts/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
# Only src/ is compiled for the image (tests, scripts and benchmarks stay out).
RUN npx tsc -p . --rootDir . --outDir dist \
 && rm -rf dist/test dist/scripts dist/bench dist/examples

# --- runtime dependencies only ----------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/patch-postgres.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime -----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    INTERNAL_HOST=0.0.0.0 \
    INTERNAL_PORT=3001 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# src/db/migrate.ts finds migrations at ../../migrations from its own file: dist/migrations here.
COPY --chown=root:root migrations ./dist/migrations
COPY --chown=root:root package.json ./
# The code is root-owned and read-only to the service; only DATA_DIR is writable.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "dist/src/main.js"]
