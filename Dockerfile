# No `# syntax=` line on purpose: it makes BuildKit pull a Dockerfile frontend image from Docker Hub before
# it builds anything, which fails wherever Docker Hub cannot be reached. The frontend built into BuildKit
# (Docker 20.10 and newer) reads everything this file uses, RUN --mount included.

# ---- build: bundle src/ with esbuild (scripts/bundle.ts) ---------------------------------------------
# On the build machine's own platform: the bundle is plain JavaScript, the same for every target, so a
# linux/arm64 image is not bundled under emulation.
FROM --platform=$BUILDPLATFORM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing from the registry runs at build time. Optional dependencies are installed:
# esbuild's binary is one (@esbuild/<platform>); so is the embedded PostgreSQL, which stays in this stage.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/bundle.ts ./scripts/
COPY src ./src
RUN npm run bundle

# ---- runtime: the bundle on a distroless Node.js base (no shell, no package manager), non-root ----------
# Pinned by digest (Dependabot moves it); distroless publishes no per-release tags. Where no registry
# answers, `npm run containers:setup` builds a stand-in tagged with the name before the `@`.
FROM gcr.io/distroless/nodejs24-debian13:nonroot@sha256:fbbdda866ea71aef98c4abece17e3d61fbf820cc2ef3961522caa2478716171a AS runtime
# The distroless base puts node in /nodejs/bin (not on its PATH) and makes it the ENTRYPOINT: the PATH
# entry lets CMD, HEALTHCHECK and compose's health check say `node`, and the empty ENTRYPOINT keeps node
# itself PID 1 with exactly the arguments of CMD.
ENV NODE_ENV=production \
    PORT=5001 \
    HOST=0.0.0.0 \
    PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin
WORKDIR /app
# No node_modules: the bundle holds every dependency it runs, and GraphiQL's assets come prebuilt
# (dist/graphiql-assets.json, read on the first view). package.json: the service reports its version
# from it (src/service.ts).
COPY package.json ./
COPY --from=build /app/bundle ./dist
# uid 1000, as the official node images' `node` user (k8s runAsUser, docs/security.md); the app needs no
# write access to /app.
USER 1000:1000
EXPOSE 5001
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["node", "dist/healthcheck.js"]
ENTRYPOINT []
# node itself is PID 1 and handles SIGTERM (never `npm start`: npm does not pass signals on).
# A 128 MB old-space cap makes V8 collect sooner: resident memory after heavy load measured 113-124 MB
# instead of about 175 MB, at no measurable throughput cost (BENCHMARKS.md); the heap in use is about 20 MB,
# and under hostile load at most ~60 MB, so the cap is never reached. Node 24 sizes the young generation
# from that cap, up to 64 MB per semi-space (a 320 MB heap limit, 283 MB resident under hostile load);
# 8 MB semi-spaces keep resident memory under the 224 MB ceiling of docs/security.md.
# --enable-source-maps: a stack in a log names src/ files and lines (dist/*.map ship beside the bundle).
CMD ["node", "--enable-source-maps", "--max-old-space-size=128", "--max-semi-space-size=8", "dist/main.js"]
