import { GraphQLError } from 'graphql'
import { createGraphQLError, type Plugin } from 'graphql-yoga'

/**
 * Requests yoga cannot read are the client's mistake: 400 with a fixed message, never a 500 and never
 * runtime text. Yoga itself answers a GET whose `variables` or `extensions` is not JSON with 500 (the
 * JSON.parse error escapes), and an invalid JSON body with 400 that carries the parser's message in
 * `extensions.originalError`.
 */
export function useBadRequests(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return
      setRequestParser(async (request) => {
        try {
          return await requestParser(request)
        } catch (error) {
          throw asBadRequest(error)
        }
      })
    },
  }
}

function asBadRequest(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) {
    const extensions = error.extensions as Record<string, unknown>
    if (!extensions.originalError) return error
    // Yoga picks the status by whether the error carries originalError: without it, application/json
    // clients would get 200. A body that is not JSON is a 400 for every client.
    delete extensions.originalError
    extensions.http = { status: 400 }
    return error
  }
  return createGraphQLError('The request could not be read: variables and extensions must be JSON objects.', {
    extensions: { http: { status: 400 }, code: 'BAD_REQUEST' },
  })
}
