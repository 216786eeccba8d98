import { DatabaseBusyError } from './failure-reasons.js'

export interface ConnectionShareOptions {
  /** Callers that may hold a connection at once. */
  max: number
  /** Callers that may wait for one; more are refused at once (queue full). */
  maxWaiting: number
  /** A caller waits this long at most (connection wait timeout). */
  waitMs: number
  /**
   * The error for a caller that waited waitMs in vain: busy by default. The places may be held by queries
   * stuck connecting to a database that is down, and then the caller should hear that instead.
   */
  waitedInVain?: () => Error
}

export interface ConnectionShare {
  /** Runs `work` once a place is free, in arrival order; DatabaseBusyError when none frees up in time. */
  run<T>(work: () => Promise<T>): Promise<T>
  /** Callers waiting for a place now. */
  readonly waiting: number
}

/**
 * A bounded share of the query pool, with a queue of its own. GraphQL's insight queries (catalog pages,
 * filtered counts) run through it, so that however many arrive they hold at most `max` connections and
 * the rest of the pool stays free for the seed's count. Waiting here rather than in pg-pool's queue means
 * a full share is reported as busy (DATABASE_BUSY), never as an unreachable database.
 */
export function createConnectionShare({
  max,
  maxWaiting,
  waitMs,
  waitedInVain = () => new DatabaseBusyError('connection wait timeout'),
}: ConnectionShareOptions): ConnectionShare {
  let holders = 0
  const queue: Array<() => void> = []

  function release() {
    // The place passes straight to the next in line, so a newcomer cannot overtake the queue.
    const next = queue.shift()
    if (next) next()
    else holders--
  }

  function waitForPlace(): Promise<void> {
    if (holders < max) {
      holders++
      return Promise.resolve()
    }
    if (queue.length >= maxWaiting) return Promise.reject(new DatabaseBusyError('queue full'))
    return new Promise((resolve, reject) => {
      const admit = () => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        queue.splice(queue.indexOf(admit), 1)
        reject(waitedInVain())
      }, waitMs)
      queue.push(admit)
    })
  }

  return {
    async run(work) {
      await waitForPlace()
      try {
        return await work()
      } finally {
        release()
      }
    },
    get waiting() {
      return queue.length
    },
  }
}
