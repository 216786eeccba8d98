import type { Plugin } from 'graphql-yoga'

const REFUSAL = {
  errors: [
    {
      message:
        'PUT and DELETE belong to graphql-sse\u2019s single connection mode, which this server does not offer: ' +
        'use its default distinct connections mode (singleConnection: false). GraphQL takes GET and POST.',
      extensions: { code: 'METHOD_NOT_ALLOWED' },
    },
  ],
}

/**
 * graphql-sse's single connection mode reserves a stream with PUT and cancels operations with DELETE.
 * It is not offered (docs/operations.md says why: state held in one replica, reservations anyone can
 * make or use by token); its clients get a 405 that says so and what to use instead, rather than yoga's
 * generic one. Its default mode, one event stream per operation, is yoga's own SSE and works.
 */
export function useRefuseSingleConnectionMode(): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'PUT' && request.method !== 'DELETE') return
      endResponse(
        new fetchAPI.Response(JSON.stringify(REFUSAL), {
          status: 405,
          headers: { allow: 'GET, POST', 'content-type': 'application/json; charset=utf-8' },
        }),
      )
    },
  }
}
