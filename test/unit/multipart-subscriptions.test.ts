import { describe, expect, it } from 'vitest'
import { prefersMultipart } from '../../src/graphql/multipart-subscriptions.js'

describe('prefersMultipart: which clients get subscriptions in Apollo multipart form', () => {
  it.each([
    ['multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json', true], // Apollo Client 4
    ['multipart/mixed;subscriptionSpec="1.0", application/json', true], // Apollo's protocol page
    ['application/json, multipart/mixed; subscriptionSpec=1.0', true],
    ['multipart/mixed;subscriptionSpec=1.0, text/event-stream', true],
  ])('%s: yes', (accept, expected) => {
    expect(prefersMultipart(accept)).toBe(expected)
  })

  it.each([
    ['text/event-stream, multipart/mixed;subscriptionSpec=1.0'], // the client listed SSE first
    ['multipart/mixed'], // incremental delivery (@defer), not Apollo's subscription protocol
    ['application/json'],
    [''],
  ])('%s: no', (accept) => {
    expect(prefersMultipart(accept)).toBe(false)
  })

  it('no header: no', () => {
    expect(prefersMultipart(null)).toBe(false)
  })
})
