import type { YogaServerOptions } from 'graphql-yoga'

/**
 * Yoga options chosen for throughput (BENCHMARKS.md, "Where the time goes"). Each one drops work that
 * another layer already does, so every limit stays in force.
 */
export const throughputOptions = {
  // The HTTP layer refuses a POST without Content-Length or over GRAPHQL_MAX_BODY_BYTES before yoga sees
  // it (rest/body-limit.ts), and Node's parser never reads past the declared length. Yoga's own limit
  // would pipe every body through a TransformStream: a stream pipeline, an AbortController and an
  // AbortError per request, and Buffers that on Node 24 are reclaimed by full collections.
  maxRequestBodySize: false,
} as const satisfies Partial<YogaServerOptions<Record<string, never>, Record<string, never>>>
