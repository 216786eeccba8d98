import { ApolloClient, CombinedGraphQLErrors, gql, HttpLink, InMemoryCache } from '@apollo/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestPostgres } from '../support/postgres.js'
import { type RunningService, startServiceOnOwnPostgres } from '../support/service.js'

// Apollo Client with its default link (HttpLink), as an application would set it up: it asks for
// subscriptions as multipart/mixed (Apollo's multipart subscription protocol), which got 406 before.
let postgres: TestPostgres
let service: RunningService
let close: () => Promise<void>

beforeAll(async () => {
  ;({ postgres, service, close } = await startServiceOnOwnPostgres({
    healthIntervalMs: 200,
    maxSubscriptions: 1,
  }))
})
afterAll(() => close?.())

const HEALTH_CHANGED = gql`
  subscription HealthChanged {
    healthChanged {
      healthy
      status
    }
  }
`

function apollo() {
  return new ApolloClient({
    link: new HttpLink({ uri: `${service.url}/graphql` }),
    cache: new InMemoryCache(),
  })
}

/** Every event and the end of an Apollo subscription, for the test to read in order. */
function subscribe(client: ApolloClient) {
  const events: unknown[] = []
  let ended: 'complete' | Error | undefined
  const subscription = client.subscribe({ query: HEALTH_CHANGED }).subscribe({
    next: (event) => events.push(event),
    error: (error: Error) => {
      ended = error
    },
    complete: () => {
      ended = 'complete'
    },
  })
  return {
    subscription,
    get ended() {
      return ended
    },
    async next(timeoutMs = 15_000): Promise<unknown> {
      await until(() => events.length > 0 || ended !== undefined, timeoutMs)
      return events.shift()
    },
  }
}

async function until(predicate: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
}

describe('Apollo Client (@apollo/client, default HttpLink)', () => {
  it('runs a query', async () => {
    const result = await apollo().query({ query: gql`query Tables { numberOfTables }` })

    expect(result.data).toEqual({ numberOfTables: expect.any(Number) })
  })

  it('receives healthChanged: the current report, then each transition; unsubscribing frees the stream', async () => {
    const live = subscribe(apollo())

    const current = await live.next()
    await postgres.server.stop()
    const down = await live.next()
    await postgres.server.start()
    const up = await live.next()
    const watchersWhileSubscribed = service.monitor.watcherCount
    live.subscription.unsubscribe()
    await until(() => service.monitor.watcherCount === 0)

    // Apollo's cache adds __typename to every selection.
    const health = (healthy: boolean, status: string) => ({
      data: { healthChanged: { __typename: 'Health', healthy, status } },
    })
    expect(current).toEqual(health(true, 'Healthy!'))
    expect(down).toEqual(health(false, 'Unhealthy'))
    expect(up).toEqual(health(true, 'Healthy!'))
    expect(live.ended).toBeUndefined()
    expect(watchersWhileSubscribed).toBe(1)
    expect(service.monitor.watcherCount).toBe(0)
  })

  it('is held to GRAPHQL_MAX_SUBSCRIPTIONS like any stream: a second one is refused with TOO_MANY_SUBSCRIPTIONS', async () => {
    const first = subscribe(apollo())
    await first.next()

    const second = subscribe(apollo())
    const refused = (await second.next()) as { error?: CombinedGraphQLErrors }
    await until(() => second.ended !== undefined)
    first.subscription.unsubscribe()

    // Apollo Client 4 hands GraphQL errors over as a result with `error`, then completes.
    expect(CombinedGraphQLErrors.is(refused.error)).toBe(true)
    expect(refused.error?.errors[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS')
    expect(second.ended).toBe('complete')
  })
})

describe("Apollo's multipart subscription protocol on the wire", () => {
  it('answers multipart/mixed with subscriptionSpec 1.0: a heartbeat at once, {payload} parts, the closing boundary at shutdown', async () => {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // Exactly what Apollo Client 4's HttpLink sends for a subscription.
        accept: 'multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json',
      },
      body: JSON.stringify({ query: 'subscription { healthChanged { healthy } }' }),
    })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ''
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      text += decoder.decode(chunk.value)
      if (text.includes('"payload"')) break
    }
    await until(() => service.monitor.watcherCount === 1)
    const stopping = service.stop('test') // live subscriptions end at shutdown
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      text += decoder.decode(chunk.value)
    await stopping

    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe(
      'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    )
    const head = '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n'
    expect(text).toBe(
      `\r\n--graphql${head}{}\r\n--graphql${head}{"payload":{"data":{"healthChanged":{"healthy":true}}}}\r\n--graphql--\r\n`,
    )
  })
})
