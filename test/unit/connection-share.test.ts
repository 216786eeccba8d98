import { describe, expect, it } from 'vitest'
import { createConnectionShare } from '../../src/db/connection-share.js'
import { DatabaseBusyError, DatabaseUnavailableError } from '../../src/db/failure-reasons.js'

/** A piece of work that ends when finish() is called. */
function pending() {
  let finish = () => {}
  const done = new Promise<void>((resolve) => {
    finish = resolve
  })
  return { work: () => done, finish }
}

describe('a connection share', () => {
  it('runs at most max at once and admits the waiting in arrival order', async () => {
    const share = createConnectionShare({ max: 2, maxWaiting: 10, waitMs: 60_000 })
    const order: string[] = []
    const first = pending()
    const second = pending()
    const holding = [share.run(first.work), share.run(second.work)]
    const third = share.run(async () => order.push('third'))
    const fourth = share.run(async () => order.push('fourth'))

    expect(share.waiting).toBe(2)
    first.finish()
    await Promise.all([third, fourth])
    second.finish()
    await Promise.all(holding)

    expect(order).toEqual(['third', 'fourth'])
    expect(share.waiting).toBe(0)
  })

  it('refuses at once when the queue is full, and after waitMs when no place frees up', async () => {
    const share = createConnectionShare({ max: 1, maxWaiting: 1, waitMs: 50 })
    const holder = pending()
    const held = share.run(holder.work)
    const waiter = share.run(async () => 'never')

    await expect(share.run(async () => 'never')).rejects.toEqual(new DatabaseBusyError('queue full'))
    await expect(waiter).rejects.toEqual(new DatabaseBusyError('connection wait timeout'))
    expect(share.waiting).toBe(0)
    holder.finish()
    await held
    expect(await share.run(async () => 'free again')).toBe('free again')
  })

  it('frees the place when the work fails', async () => {
    const share = createConnectionShare({ max: 1, maxWaiting: 0, waitMs: 50 })

    await expect(share.run(() => Promise.reject(new Error('query failed')))).rejects.toThrow('query failed')
    expect(await share.run(async () => 'next')).toBe('next')
  })

  it('tells a caller that waited in vain what waitedInVain says (the database is down, not busy)', async () => {
    const down = new DatabaseUnavailableError('timeout')
    const share = createConnectionShare({ max: 1, maxWaiting: 1, waitMs: 20, waitedInVain: () => down })
    const holder = pending()
    const held = share.run(holder.work)

    await expect(share.run(async () => 'never')).rejects.toBe(down)
    holder.finish()
    await held
  })
})
