import { spawn } from 'node:child_process'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import { acceptsGzip } from '../http/compression.js'
import type { SendStatic } from '../http/static-transfers.js'

/** Where the playground's code is served; the names carry a content hash, so they never change. */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/'

interface Asset {
  name: string
  contentType: string
  /** The first 16 hex digits of the SHA-256 of the uncompressed bytes: in the name and the ETag. */
  hash: string
  gzip: Buffer
  /**
   * The bytes as they are, for clients that do not accept gzip, inflated once when the assets are built.
   * Every response sends this same buffer (and the gzip one), so a thousand clients that never read
   * hold references to it, not copies: inflating per response (a zlib stream each) took 1,000 such
   * clients to 500 MB resident.
   */
  identity: Buffer
}

export interface GraphiqlOptions {
  title: string
  defaultQuery: string
  graphqlPath: string
  /** Sends an asset's bytes within the budget of large transfers (http/static-transfers.ts). */
  sendStatic: SendStatic
}

export interface Graphiql {
  /** The HTML page for GET /graphql from a browser: a few KB that name the assets. */
  page(req: IncomingMessage, res: ServerResponse): Promise<void>
  /** GET /graphiql/<name>: the asset, gzip when accepted, cacheable for a year (its name changes with it). */
  asset(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>
}

/**
 * GraphiQL served by the app (no CDN: it works offline and behind proxies), from the bundle of
 * @graphql-yoga/render-graphiql. That package inlines 9 MB of code into every page it renders, which
 * cost each view half a second of the event loop. Here the bundle is read, hashed and compressed once,
 * on the first view, in a short-lived child process: the event loop (and so every probe) never waits on
 * it, and the ~70 MB it takes to load the bundle are given back when that process exits (a worker
 * thread's were not: the service's resident memory stayed 70 MB higher). Each view then sends a small
 * page and ~2 MB of cacheable assets (9 MB to a client without gzip), from buffers built once.
 */
export function createGraphiql(options: GraphiqlOptions): Graphiql {
  const { sendStatic } = options
  let built: Promise<Map<string, Asset>> | undefined
  const assets = () => {
    built ??= buildAssets().catch((error: unknown) => {
      built = undefined // try again on the next view
      throw error
    })
    return built
  }

  return {
    async page(req, res) {
      let html: string
      try {
        html = renderPage(options, await assets())
      } catch {
        return sendPlain(req, res, 503, 'GraphiQL is unavailable: its bundle could not be loaded.')
      }
      const body = Buffer.from(html)
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': body.length,
        // The page names the current assets; it is cheap to fetch again.
        'cache-control': 'no-cache',
      })
      res.end(req.method === 'HEAD' ? undefined : body)
    },

    async asset(req, res, path) {
      const asset =
        built && (await assets().catch(() => undefined))?.get(path.slice(GRAPHIQL_ASSETS_PATH.length))
      if (!asset) return sendPlain(req, res, 404, 'Not Found')
      const gzip = acceptsGzip(req.headers['accept-encoding'])
      const headers = {
        'content-type': asset.contentType,
        'cache-control': 'public, max-age=31536000, immutable',
        etag: `"${asset.hash}${gzip ? '.gz' : ''}"`,
        vary: 'Accept-Encoding',
      }
      if (req.headers['if-none-match']?.includes(asset.hash)) {
        res.writeHead(304, headers)
        return void res.end()
      }
      if (gzip) return sendStatic(req, res, { ...headers, 'content-encoding': 'gzip' }, asset.gzip)
      sendStatic(req, res, headers, asset.identity)
    },
  }
}

function sendPlain(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
  const body = Buffer.from(text)
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': body.length,
    'cache-control': 'no-store',
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

const html = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
// JSON inside <script>: `</script>` or `<!--` in a string must not end the element.
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c')

function renderPage(options: GraphiqlOptions, assets: Map<string, Asset>): string {
  const url = (kind: string) => {
    const asset = [...assets.values()].find((each) => each.name.startsWith(`${kind}.`))
    return `${GRAPHIQL_ASSETS_PATH}${asset?.name ?? ''}`
  }
  const workers = {
    editorWorkerService: url('editor-worker'),
    json: url('json-worker'),
    graphql: url('graphql-worker'),
  }
  const graphiqlOptions = {
    title: options.title,
    defaultQuery: options.defaultQuery,
    endpoint: options.graphqlPath,
    // Yoga's GraphiQL keeps the headers tab (a bearer token) in localStorage unless told not to.
    shouldPersistHeaders: false,
  }
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${html(options.title)}</title>
    <link rel="icon" href="${url('favicon')}" />
    <link rel="stylesheet" href="${url('graphiql-css')}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script>
      const workers = ${scriptJson(workers)};
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (moduleId, label) => workers[label] };
    </script>
    <script src="${url('graphiql')}"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${scriptJson(graphiqlOptions)});
    </script>
  </body>
</html>
`
}

/**
 * Runs in the child process: loads the bundle, and writes each part hashed and gzipped as one JSON
 * line (gzip in base64) on stdout. Plain CommonJS, so that it runs the same from src/ and dist/.
 */
const BUILD_ASSETS = `
const { createHash } = require('node:crypto')
const { gzipSync, constants } = require('node:zlib')
const bundle = require(process.argv[1])
const parts = [
  ['graphiql', 'js', 'text/javascript; charset=utf-8', bundle.js],
  ['graphiql-css', 'css', 'text/css; charset=utf-8', bundle.css],
  ['editor-worker', 'js', 'text/javascript; charset=utf-8', bundle.editorWorkerService],
  ['json-worker', 'js', 'text/javascript; charset=utf-8', bundle.jsonWorker],
  ['graphql-worker', 'js', 'text/javascript; charset=utf-8', bundle.graphqlWorker],
]
const favicon = /^data:([^;,]+);base64,(.*)$/s.exec(bundle.favicon)
const assets = parts.map(([kind, extension, contentType, text]) => asset(kind, extension, contentType, Buffer.from(text)))
if (favicon) assets.push(asset('favicon', 'ico', favicon[1], Buffer.from(favicon[2], 'base64')))
process.stdout.write(JSON.stringify(assets) + '\\n')

function asset(kind, extension, contentType, bytes) {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16)
  const gzip = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }).toString('base64')
  return { name: kind + '.' + hash + '.' + extension, contentType, hash, gzip }
}
`

const BUILD_TIMEOUT_MS = 60_000

function buildAssets(): Promise<Map<string, Asset>> {
  const bundlePath = createRequire(import.meta.url).resolve('@graphql-yoga/render-graphiql/graphiql')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', BUILD_ASSETS, bundlePath], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: {},
      timeout: BUILD_TIMEOUT_MS,
    })
    const chunks: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`building the GraphiQL assets failed (exit ${code})`))
      try {
        const built = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<
          Omit<Asset, 'gzip' | 'identity'> & { gzip: string }
        >
        const inflate = promisify(gunzip)
        // Inflated in zlib's thread pool, once: the event loop does not wait on 9 MB of it.
        Promise.all(
          built.map(async (asset) => {
            const gzip = Buffer.from(asset.gzip, 'base64')
            return [asset.name, { ...asset, gzip, identity: await inflate(gzip) }] as const
          }),
        ).then((assets) => resolve(new Map(assets)), reject)
      } catch (error) {
        reject(error)
      }
    })
  })
}
