# No `# syntax=` line on purpose: it makes BuildKit pull a Dockerfile frontend image from Docker Hub before
# it builds anything, which fails wherever Docker Hub cannot be reached. The frontend built into BuildKit
# (Docker 20.10 and newer) reads everything this file uses, RUN --mount included.

# ---- build: compile TypeScript with the dev dependencies --------------------------------------------
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing from the registry runs at build time; --omit=optional: no embedded PostgreSQL
# (src/db/embedded-binaries.ts loads it by a computed name at run time, so tsc needs none of its files).
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and dist/ only, as a non-root user ----------------------------
FROM node:24.22.3-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=5001 \
    HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
# The `node` user (uid 1000) ships with the base image; the app needs no write access to /app.
USER node
EXPOSE 5001
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["node", "dist/healthcheck.js"]
# node itself is PID 1 and handles SIGTERM (never `npm start`: npm does not pass signals on).
# A 128 MB old-space cap makes V8 collect sooner: resident memory after heavy load measured 113-124 MB
# instead of about 175 MB, at no measurable throughput cost (BENCHMARKS.md); the heap in use is about 20 MB,
# and under hostile load at most ~60 MB, so the cap is never reached. Node 24 sizes the young generation
# from that cap, up to 64 MB per semi-space (a 320 MB heap limit, 283 MB resident under hostile load);
# 8 MB semi-spaces keep resident memory under the 224 MB ceiling of docs/security.md.
CMD ["node", "--max-old-space-size=128", "--max-semi-space-size=8", "dist/main.js"]
