import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createClientAddressOf } from '../../src/http/client-address.js'
import { clientShare, SharedSlots } from '../../src/http/client-share.js'

const request = (remoteAddress: string, forwardedFor?: string | string[]) =>
  ({
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as IncomingMessage

describe('the client address of a request', () => {
  it('is the peer, X-Forwarded-For ignored, when no proxy is trusted', () => {
    const clientOf = createClientAddressOf([])

    expect(clientOf(request('203.0.113.7', '198.51.100.1'))).toBe('203.0.113.7')
    expect(clientOf(request('::ffff:127.0.0.1'))).toBe('127.0.0.1')
  })

  it('is the nearest address a trusted proxy names, so a forged header cannot pick one', () => {
    const clientOf = createClientAddressOf(['10.0.0.0/8', 'fd00::1'])

    // nginx appends the address it saw: the client wrote the left part itself.
    expect(clientOf(request('10.1.2.3', '6.6.6.6, 203.0.113.7'))).toBe('203.0.113.7')
    expect(clientOf(request('10.1.2.3', ['6.6.6.6', '203.0.113.7, 10.9.9.9']))).toBe('203.0.113.7')
    expect(clientOf(request('fd00::1', '2001:db8::5'))).toBe('2001:db8::5')
    // Only proxies: the farthest one. Garbage: the last address that could be trusted.
    expect(clientOf(request('10.1.2.3', '10.0.0.5'))).toBe('10.0.0.5')
    expect(clientOf(request('10.1.2.3', 'unknown, <script>'))).toBe('10.1.2.3')
    expect(clientOf(request('10.1.2.3'))).toBe('10.1.2.3')
  })

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const clientOf = createClientAddressOf(['10.0.0.0/8'])

    expect(clientOf(request('203.0.113.7', '198.51.100.1'))).toBe('203.0.113.7')
  })
})

describe('shared slots', () => {
  it('refuse a client over its share, and everyone when full; each slot is given back once', () => {
    const slots = new SharedSlots(4, clientShare(4, 50))
    const a1 = slots.take('a')
    const a2 = slots.take('a')

    expect(slots.take('a')).toBe('share')
    const b1 = slots.take('b')
    const b2 = slots.take('b')
    expect(slots.take('c')).toBe('full')
    for (const release of [a1, a2, b1, b2]) if (typeof release === 'function') release()
    if (typeof a1 === 'function') a1()
    expect(slots.count).toBe(0)
    expect(slots.take('proxy', Number.POSITIVE_INFINITY)).toBeTypeOf('function')
  })

  it('leave at least one slot per client', () => {
    expect(clientShare(64, 25)).toBe(16)
    expect(clientShare(2, 25)).toBe(1)
    expect(clientShare(100, 100)).toBe(100)
  })
})
