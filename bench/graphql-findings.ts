/**
 * The "Where the time goes: GraphQL" text of BENCHMARKS.md. What the profiles of issue 14 found is
 * written here once; every number that this run measures is filled in from it.
 */
export interface GraphqlFigures {
  /** GraphQL health at c=64, req/s: the service, the service without the semi-space flag, the floor, the peer. */
  service: number
  withoutSemiSpace: number
  floor: number
  peer: number
  /** In process, each as a speed-up over the row it is compared with. */
  bodyLimitGain: number
  /** Today's options against yoga's defaults for CORS, GraphiQL, multipart and the body count. */
  beforeGain: number
  jitGain: number
  persistedGain: number
  bareYogaGain: number
  graphqlJsGain: number
}

const times = (value: number) => `${value.toFixed(2)}×`
const rps = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 0 })

export function graphqlFindings(figures: GraphqlFigures): string[] {
  return [
    'Found with CPU profiles (`node --cpu-prof`) and GC traces (`--trace-gc`) of `dist/main.js` under',
    '`POST /graphql` load at c=64 on Node 24 (what the image, CI and `npm start` here run). Two causes took',
    'most of the time, and neither was GraphQL:',
    '',
    '1. **Full collections on Node 24.** With `--max-old-space-size=128` alone, Node 24 gives the young',
    '   generation 64 MB semi-spaces, and under load the short-lived Buffers of each request are reclaimed',
    '   by Mark-Compact instead of Scavenge (V8 13.6 raised its new-space default; nodejs/node#61967). The',
    '   traces showed 70–120 Mark-Compacts and almost no scavenges in 5 s, 40–45% of the CPU profile in the',
    '   garbage collector, and 325–600 µs of CPU per GraphQL request. An explicit semi-space size restores',
    '   scavenges: `npm start` and the image now pass `--max-semi-space-size=8` (chosen for resident memory,',
    '   docs/security.md; 16, the size of Node 20 and 22, measured the same within the noise). In this run:',
    `   ${rps(figures.withoutSemiSpace)} req/s without the flag, ${rps(figures.service)} with it (the rows above).`,
    '2. **An AbortController and a DOMException per request.** Not @whatwg-node/server: since 0.10.9 its',
    "   request signal is lazy, and nothing here reads it (yoga's execution-cancellation plugin is off, no",
    "   plugin of ours touches `request.signal`). They came from yoga 5.24's request body limit",
    '   (`useLimitRequestBodySize`, on by default at 25 MB): it pipes every POST body through a',
    '   TransformStream, and the Node stream `pipeline` behind `pipeThrough` makes an AbortController per',
    '   call and aborts it when done, which creates the DOMException; its Buffers fed the collections above.',
    '   The service already refuses a POST without Content-Length or over `GRAPHQL_MAX_BODY_BYTES` before',
    "   yoga, and Node never reads past the declared length (test/hardening/body-length.test.ts), so yoga's",
    `   copy of the limit is off (\`src/graphql/yoga.ts\`): ${times(figures.bodyLimitGain)} in process (table below). Measured`,
    '   side by side on 2026-11-29 (c=64, 3 s rounds, load average 7–8, both with the semi-space flag): main',
    '   with the body count used 219–271 µs of CPU per GraphQL request (3,561–4,262 req/s, p99 65–96 ms,',
    '   0.23–0.35× the floor); without it, 95–106 µs (7,863–8,329 req/s, p99 41–54 ms, 0.45–0.50×); the floor',
    '   used 36–43 µs, plus its query in PostgreSQL.',
    '',
    "With issue 12's defaults (yoga's CORS only for an allow-list, GraphiQL served outside yoga, no multipart",
    `parser), today's options run ${times(figures.beforeGain)} as fast in process as yoga's defaults for those four.`,
    'What is left per request, from the profile after both fixes: socket writes (about 15%), HTTP parsing',
    '(about 10%), the request log line (pino: serialise, redact, write; about 10%, kept), scavenges (10–20%),',
    "and yoga's pipeline: WHATWG Request/Response objects, envelop hooks, promise plumbing (about 30%).",
    `graphql-http on the same schema, with no limits, metrics or logs (the peer rows), ran ${rps(figures.peer)} req/s`,
    `against ${rps(figures.service)} for the service and ${rps(figures.floor)} for the floor: it parses and validates every request,`,
    'where yoga caches both.',
    '',
    'Levers measured and not taken (the table below has each one alone):',
    '',
    `- Persisted operations with \`skipDocumentValidation\`: ${times(figures.persistedGain)}. The parse and`,
    '  validation cache already makes a known document cost one LRU lookup, and the plugin adds a hook.',
    `- graphql-jit: ${times(figures.jitGain)} in process here, and about 1.1× in CPU per request behind the fast`,
    '  path (the lever table below). Not taken: the graphql-http audit passes with it, but the differential',
    '  test (test/hardening/graphql-fast-path.test.ts, jit on one side, graphql-js on the other) found its',
    '  answers differ: field errors lose `locations` and come after `data`; a variable of the wrong type is',
    '  worded otherwise and answered 200 instead of 400; a mutation (this schema has none) is a masked 500',
    "  instead of graphql-js's error. @envelop/graphql-jit also keeps one compiled query per document,",
    '  whatever the operation name. Whether a query will fail cannot be known before it runs, so no rule',
    '  could keep jit to the queries it answers the same.',
    '- The native fetch API (undici) in place of the ponyfill: slower.',
    "- A buffered Node adapter in place of @whatwg-node/server's (body read into a string, yoga's",
    '  `handleRequest`, the answer written in one call): CPU per request unchanged within the noise',
    '  (126–164 µs against 113–186 µs), so the Node-to-WHATWG adapter is not where the time goes.',
    '- Fewer plugins: with every optional plugin off (limits, metrics, masking, logging), bare yoga runs',
    `  ${times(figures.bareYogaGain)} the baseline, so the limits, metrics and logs cost little; graphql-js's`,
    `  \`execute()\` alone runs ${times(figures.graphqlJsGain)}: the rest is yoga's HTTP pipeline.`,
    '',
    '### The fast path (issue 21)',
    '',
    "Mercurius, the fastest Node GraphQL server measured here, works on Node's own request and response",
    'with one cache entry per document string. `src/graphql/fast-path.ts` does the same for the common request',
    "(docs/architecture.md says which): it runs yoga's own envelop (`getEnveloped()`: parse through yoga's",
    'cache, validate, execute, with every plugin: limits, masking, metrics, tracing) and writes the answer in',
    "one call, with no WHATWG Request or Response; anything else, and a document's first request, goes to",
    'yoga as before. A differential test holds both paths to the same bytes. The peer table above is the',
    'result; its ctera-app rows are the service with and, when `--baseline` names a build of main, without it.',
    '',
    'Each lever alone, measured on 2026-12-02 with `bench/levers.ts` (builds that differ by that lever only,',
    '20,000 requests each at c=64, 5 rounds taking turns; CPU µs per request of the service process, median',
    '(rounds)). The machine was shared with other suites (load average 17–39), so only large differences',
    'read clearly; the order within a round changed every round.',
    '',
    '| build | CPU µs per request | taken |',
    '| --- | --- | --- |',
    '| main (no fast path) | 277 (334, 261, 282, 277, 228) | was |',
    "| fast path through yoga's `getResultForParams` | 153 (209, 149, 151, 192, 153) | superseded |",
    '| fast path calling the envelop itself, validation once per document | 153 (210, 125, 163, 119, 153) | yes: same cost, fewer yoga internals per request |',
    '| + HTTP metrics through one kept child per series | 185 (244, 214, 185, 115, 113) | yes: no label hashing per request; no gain that the noise shows |',
    '| + graphql-jit | 127 (132, 119, 140, 118, 127) | no: answers differ (above) |',
    '| without the access log line (`LOG_LEVEL=warn`) | 133 (178, 110, 228, 124, 133) | no: the line is kept; this is its cost |',
    '| without the GraphQL metrics plugin | 143 (149, 143, 169, 93, 102) | no: the metrics are kept; this is their cost |',
    '',
    'The fast path is the lever that pays: in the same rounds its builds used 0.55–0.67× the CPU of main per request.',
    'The log line and the GraphQL metrics cost roughly 10–25% each; both are checked features and stay.',
    'What is left per request (CPU profile of the fast path under load): the garbage collector (about a fifth),',
    'socket writes (about a tenth), the log line (pino: serialise, redact, a synchronous write), the',
    'Prometheus plugin (its per-phase label maps and filters), and the executor.',
  ]
}
