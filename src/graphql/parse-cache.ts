import type { DocumentNode, Token } from 'graphql'
import { LRUCache } from 'lru-cache'

/**
 * Yoga caches every parsed document (and, keyed on it, its validation result) and every parse error,
 * 1,024 of each whatever their size. A document near the token limit costs about 0.5 MB there, so
 * unique near-limit documents could fill the heap. These caches are bounded in bytes instead, from an
 * estimate that errs high; documents too large to be worth keeping are not cached at all.
 */

// From heap measurements of cached entries (yoga 5, graphql 16): about 10 KB for a two-field query;
// up to 1.25 KB per token when every field is a validation error (400 unknown fields: 500 KB); a parse
// error holds its source about twice over.
const ENTRY_OVERHEAD_BYTES = 12 * 1024
const BYTES_PER_TOKEN = 1300
const BYTES_PER_SOURCE_CHARACTER = 3

export const PARSE_CACHE_LIMITS = {
  /** All cached documents with their validation results, estimated. */
  documentBytes: 8 * 2 ** 20,
  /** All cached parse errors, estimated. */
  errorBytes: 2 * 2 ** 20,
  /** A larger entry is not cached: about 380 tokens (GraphiQL's introspection query has under 200). */
  entryBytes: 512 * 1024,
  entries: 1024,
} as const

export interface Cache<T> {
  get(key: string): T | undefined
  set(key: string, value: T): void
}

export interface ParseCaches {
  documentCache: Cache<DocumentNode>
  errorCache: Cache<unknown>
  /** Estimated bytes held, for tests and metrics. */
  estimatedBytes(): { documents: number; errors: number }
}

/** Upper estimate of what caching this parse result costs: the text, the tokens and nodes, validation errors. */
export function estimateEntryBytes(source: string, document?: DocumentNode): number {
  return (
    ENTRY_OVERHEAD_BYTES +
    BYTES_PER_SOURCE_CHARACTER * source.length +
    BYTES_PER_TOKEN * tokenCount(source, document)
  )
}

function tokenCount(source: string, document: DocumentNode | undefined): number {
  if (!document) return 0
  // Without location data the tokens are unknown; every token is at least one character.
  if (!document.loc) return source.length
  let count = 0
  for (let token: Token | null = document.loc.startToken; token; token = token.next) count++
  return count
}

function boundedCache<T extends {}>(
  maxBytes: number,
  sizeOf: (key: string, value: T) => number,
): LRUCache<string, T> {
  return new LRUCache<string, T>({
    max: PARSE_CACHE_LIMITS.entries,
    maxSize: maxBytes,
    maxEntrySize: PARSE_CACHE_LIMITS.entryBytes,
    sizeCalculation: (value, key) => sizeOf(key, value),
    ttl: 3_600_000,
  })
}

export function createParseCaches(): ParseCaches {
  const documents = boundedCache<DocumentNode>(PARSE_CACHE_LIMITS.documentBytes, (key, document) =>
    estimateEntryBytes(key, document),
  )
  const errors = boundedCache<object>(PARSE_CACHE_LIMITS.errorBytes, (key) => estimateEntryBytes(key))
  return {
    documentCache: documents,
    errorCache: {
      get: (key) => errors.get(key),
      // Yoga caches whatever parsing threw; anything but an object is not worth keeping.
      set: (key, value) => {
        if (typeof value === 'object' && value !== null) errors.set(key, value)
      },
    },
    estimatedBytes: () => ({ documents: documents.calculatedSize, errors: errors.calculatedSize }),
  }
}
