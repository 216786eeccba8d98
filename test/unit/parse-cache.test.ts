import { parse } from 'graphql'
import { describe, expect, it } from 'vitest'
import { createParseCaches, estimateEntryBytes, PARSE_CACHE_LIMITS } from '../../src/graphql/parse-cache.js'

describe('the parse and validation cache, bounded in bytes', () => {
  it('keeps small documents, leaves near-limit ones out, and never holds more than its budget', () => {
    const caches = createParseCaches()
    const small = '{ health { healthy status } }'
    caches.documentCache.set(small, parse(small))

    for (let index = 0; index < 2000; index++) {
      const medium = `query M${index} { health { ${'healthy '.repeat(300)}} }`
      caches.documentCache.set(medium, parse(medium))
      const large = `query L${index} { health { ${'healthy '.repeat(990)}} }`
      caches.documentCache.set(large, parse(large))
    }
    const large = `query L1999 { health { ${'healthy '.repeat(990)}} }`
    const medium = `query M1999 { health { ${'healthy '.repeat(300)}} }`

    expect(estimateEntryBytes(large, parse(large))).toBeGreaterThan(PARSE_CACHE_LIMITS.entryBytes)
    expect(caches.documentCache.get(large)).toBeUndefined()
    expect(caches.documentCache.get(medium)).toBeDefined()
    expect(caches.estimatedBytes().documents).toBeLessThanOrEqual(PARSE_CACHE_LIMITS.documentBytes)
    expect(caches.estimatedBytes().documents).toBeGreaterThan(PARSE_CACHE_LIMITS.documentBytes / 2)
  })

  it('bounds cached parse errors by their text too', () => {
    const caches = createParseCaches()
    for (let index = 0; index < 2000; index++) {
      const source = `# ${String(index).repeat(20_000)}\n{`
      caches.errorCache.set(source, new Error('Syntax Error'))
    }
    expect(caches.estimatedBytes().errors).toBeLessThanOrEqual(PARSE_CACHE_LIMITS.errorBytes)
  })
})
