import { describe, expect, it } from 'vitest'
import { Ring } from '../../src/health/ring.js'

describe('Ring', () => {
  it('holds the last values added, newest first, with their sequence numbers', () => {
    const ring = new Ring<string>(3)
    for (const value of ['a', 'b', 'c', 'd', 'e']) ring.push(value)

    const page = ring.page(10)

    expect(page.entries).toEqual([
      { sequence: 5, value: 'e' },
      { sequence: 4, value: 'd' },
      { sequence: 3, value: 'c' },
    ])
    expect(page.hasMore).toBe(false)
    expect(ring.size).toBe(3)
    expect(ring.newest()).toBe('e')
  })

  it('pages back from a cursor (a sequence number) until the oldest value held', () => {
    const ring = new Ring<number>(5)
    for (let i = 1; i <= 12; i++) ring.push(i)

    const first = ring.page(2)
    const second = ring.page(2, first.entries.at(-1)?.sequence)
    const third = ring.page(2, second.entries.at(-1)?.sequence)

    expect(first.entries.map((entry) => entry.value)).toEqual([12, 11])
    expect(second.entries.map((entry) => entry.value)).toEqual([10, 9])
    expect(third).toEqual({ entries: [{ sequence: 8, value: 8 }], hasMore: false })
    expect(first.hasMore && second.hasMore).toBe(true)
  })

  it('answers an empty page for a cursor older than anything held, or beyond the newest', () => {
    const ring = new Ring<number>(2)
    for (let i = 1; i <= 5; i++) ring.push(i)

    expect(ring.page(10, 2)).toEqual({ entries: [], hasMore: false })
    expect(ring.page(10, 1_000).entries.map((entry) => entry.value)).toEqual([5, 4])
    expect(new Ring<number>(4).page(10)).toEqual({ entries: [], hasMore: false })
  })

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new Ring(0)).toThrow(RangeError)
    expect(() => new Ring(1.5)).toThrow(RangeError)
  })
})
