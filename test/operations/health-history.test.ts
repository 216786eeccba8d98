import { ClientError, GraphQLClient } from 'graphql-request'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { HealthHistoryDocument } from '../generated/operations.js'
import { type RunningService, startService } from '../support/service.js'

const postgres = inject('postgres')
let service: RunningService
let client: GraphQLClient

beforeAll(async () => {
  // A ring of 8 checks, filled in about a second at one check per 100 ms.
  service = await startService(postgres.app, {
    healthIntervalMs: 100,
    healthHistorySize: 8,
    healthDetails: true,
  })
  client = new GraphQLClient(`${service.url}/graphql`)
  const deadline = Date.now() + 20_000
  while (service.monitor.state.checks.lastSequence < 12 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
})
afterAll(() => service?.close())

describe('healthHistory (GraphQL)', () => {
  it('pages through the monitor checks, newest first, and keeps only HEALTH_HISTORY_SIZE of them', async () => {
    const first = await client.request(HealthHistoryDocument, { first: 3 })
    const cursor = first.healthHistory.checks.pageInfo.endCursor
    const second = await client.request(HealthHistoryDocument, { first: 100, after: cursor })

    const all = [...first.healthHistory.checks.nodes, ...second.healthHistory.checks.nodes]
    const times = all.map((check) => Date.parse(check.checkedAt))
    expect(first.healthHistory.size).toBe(8)
    expect(first.healthHistory.checks.nodes).toHaveLength(3)
    expect(first.healthHistory.checks.pageInfo.hasNextPage).toBe(true)
    expect(all).toHaveLength(8)
    expect(second.healthHistory.checks.pageInfo.hasNextPage).toBe(false)
    expect(times).toEqual([...times].sort((a, b) => b - a))
    expect(all.every((check) => check.healthy && check.role === 'PRIMARY' && check.reason === null)).toBe(
      true,
    )
  })

  it('lists the transitions: the first state, healthy', async () => {
    const { healthHistory } = await client.request(HealthHistoryDocument, { first: 10 })

    expect(healthHistory.transitions.nodes).toEqual([
      expect.objectContaining({ healthy: true, reason: null, latencyMs: expect.any(Number) }),
    ])
    expect(healthHistory.transitions.pageInfo).toEqual({ hasNextPage: false, endCursor: '1' })
  })

  it.each([
    [{ first: 0 }, 'first must be from 1 to 100'],
    [{ first: 101 }, 'first must be from 1 to 100'],
    [{ first: 5, after: 'abc' }, 'after is not a cursor returned by this API'],
    [{ first: 5, after: '9'.repeat(40) }, 'after is not a cursor returned by this API'],
  ])('refuses %o with BAD_USER_INPUT', async (variables, message) => {
    const error = await client.request(HealthHistoryDocument, variables).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(ClientError)
    const [first] = (error as ClientError).response.errors ?? []
    expect(first?.message).toBe(message)
    expect(first?.extensions?.code).toBe('BAD_USER_INPUT')
  })
})

describe('history in health+json', () => {
  it('shows the last 10 checks and transitions with HEALTH_DETAILS on', async () => {
    const body = await (await fetch(`${service.url}/healthz`)).json()

    expect(body.history.checks.length).toBe(8)
    expect(body.history.checks[0]).toEqual({
      time: expect.any(String),
      healthy: true,
      latencyMs: expect.any(Number),
      reason: null,
    })
    expect(body.history.transitions).toEqual([expect.objectContaining({ healthy: true, reason: null })])
  })

  it('leaves it out by default', async () => {
    const plain = await startService(postgres.app, { healthIntervalMs: 100 })
    try {
      const body = await (await fetch(`${plain.url}/healthz`)).json()

      expect(body.status).toBe('pass')
      expect(body).not.toHaveProperty('history')
    } finally {
      await plain.close()
    }
  })
})
