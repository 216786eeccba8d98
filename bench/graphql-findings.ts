/**
 * The "Where the time goes: GraphQL" text of BENCHMARKS.md. What the profiles of issue 14 found is
 * written here once; every number that this run measures is filled in from it.
 */
export interface GraphqlFigures {
  /** GraphQL health at c=64: the service, the service without the semi-space flag, the floor. */
  service: number
  withoutSemiSpace: number
  floor: number
  peer: number
  /** In process: the body-limit row, JIT, persisted operations, each × the baseline. */
  bodyLimitGain: number
  jitGain: number
  persistedGain: number
  bareYogaGain: number
}

const times = (value: number) => `${value.toFixed(2)}×`
const rps = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 0 })

export function graphqlFindings(figures: GraphqlFigures): string[] {
  return [
    'Found with CPU profiles (`node --cpu-prof`) and GC traces (`--trace-gc`) of `dist/main.js` under',
    '`POST /graphql` load at c=64, on Node 24 (the version CI and `npm start` run here). Two causes took most',
    'of the time, and neither was in GraphQL itself:',
    '',
    '1. **Full collections on Node 24.** With `--max-old-space-size=128` alone, Node 24 gives the young',
    '   generation 64 MB semi-spaces, and under load the short-lived Buffers of each request are reclaimed',
    '   by Mark-Compact instead of Scavenge (V8 13.6 raised its new-space default; nodejs/node#61967): the',
    '   traces showed 70–120 Mark-Compacts and no scavenges in 5 s, and the profile 40–45% of the CPU in the',
    '   garbage collector. `--max-semi-space-size=16`, the size Node 20 and 22 use, restores scavenges. In this',
    `   run: ${rps(figures.withoutSemiSpace)} req/s without the flag, ${rps(figures.service)} with it (the rows above).`,
    '2. **An AbortController and a DOMException per request.** Not @whatwg-node/server: since 0.10.9 its',
    "   request signal is lazy, and nothing here reads it (yoga's execution-cancellation plugin is off; no",
    "   plugin of ours touches `request.signal`). They came from yoga 5.24's request body limit",
    '   (`useLimitRequestBodySize`, on by default at 25 MB): it pipes every POST body through a',
    '   TransformStream, and the Node stream `pipeline` behind `pipeThrough` makes an AbortController per',
    '   call and aborts it when done, which creates the DOMException, and its Buffers fed the collections above.',
    '   The service already refuses a POST without Content-Length or over `GRAPHQL_MAX_BODY_BYTES` before',
    "   yoga, and Node never reads past the declared length (test/hardening/body-length.test.ts), so yoga's",
    `   copy of the limit is off (\`src/graphql-throughput.ts\`): ${times(figures.bodyLimitGain)} in process (table below).`,
    '',
    'What is left per request, from the profile after both: socket writes, HTTP parsing, the request log line',
    "(pino: serialise, redact, write; about a tenth of the CPU, kept), yoga's WHATWG Request/Response",
    'objects, envelop hooks and promise plumbing, and scavenges. graphql-http on the same schema with no',
    `limits, metrics or logs (the peer rows) ran ${rps(figures.peer)} req/s against ${rps(figures.service)} for the service`,
    `and ${rps(figures.floor)} for the floor: it parses and validates every request, where yoga caches both.`,
    '',
    'Levers measured and not taken (the table below has each one alone):',
    '',
    "- CORS off, GraphiQL outside yoga, no multipart parser: each drops one plugin's hooks from every",
    '  request; issue 12 makes all three the default (CORS only for an allow-list).',
    `- Persisted operations with \`skipDocumentValidation\`: ${times(figures.persistedGain)}. The parse and`,
    '  validation cache already makes a known document cost one LRU lookup, and the plugin adds a hook.',
    `- graphql-jit: ${times(figures.jitGain)} for this two-field query, where execution is a small share; it would`,
    "  add a dependency that compiles each client's document to JavaScript, and it departs from graphql-js in",
    '  edge cases that the graphql-http audit checks. Worth it for large list queries, which this API has not.',
    '- The native fetch API (undici) in place of the ponyfill: slower.',
    '',
    `The next step would be a fast path for plain JSON POSTs that skips yoga's HTTP layer but keeps its envelop`,
    `(parse, validate, execute and the same plugins). Bare yoga, with every optional plugin off, runs`,
    `${times(figures.bareYogaGain)} the baseline in process: that bounds what trimming plugins can still give,`,
    'while the fast path would have to re-implement content negotiation, status codes, CORS and the error',
    'masking that the graphql-http audit and the hostile-request suite check.',
  ]
}
