import type { Plugin } from 'graphql-yoga'

/**
 * Yoga's own 405s spell the header `Allow`; every other answer of the service (REST routes, GraphiQL's
 * assets, graphql-sse's refused modes) sends `allow`, as it sends every header of its own in lower case.
 * Header names are case-insensitive, but one spelling keeps clients and tests that compare bytes simple.
 */
export function useLowerCaseAllow(): Plugin {
  return {
    onResponse({ response }) {
      lowerCaseAllow(response.headers)
    },
  }
}

/** The plugin's rewrite, also applied by the fast path (fast-path.ts) to the answers it writes. */
export function lowerCaseAllow(headers: Headers): void {
  const allow = headers.get('allow')
  if (allow === null) return
  // Rewriting the header makes the Headers object keep its names normalised (lower case).
  headers.delete('allow')
  headers.set('allow', allow)
}
