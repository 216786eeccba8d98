import type { EventEmitter } from 'node:events'
import type { HealthCheck } from '../db/database.js'

export interface SubscriberLimits {
  /** watch() refuses more consumers than this at once (each is a live subscription). */
  maxWatchers?: number
  /** ...and more than this for one client (CLIENT_MAX_SHARE_PERCENT of maxWatchers). */
  maxWatchersPerClient?: number
  /** A consumer's stream ends after this (GRAPHQL_SUBSCRIPTION_MAX_MS); 0 or absent = never. */
  maxWatchMs?: number
}

/** watch() was asked for more consumers than maxWatchers, or than one client's share (perClient). */
export class TooManyWatchersError extends Error {
  override name = 'TooManyWatchersError'
  constructor(
    message: string,
    readonly perClient = false,
  ) {
    super(message)
  }
}

/** What a subscriber needs of the monitor: its events ('transition', 'close'), its latest report, a check. */
interface Watched extends EventEmitter {
  readonly latest: HealthCheck | undefined
  readonly stopped: boolean
  check(): Promise<HealthCheck>
}

const MAX_QUEUED_TRANSITIONS = 100

/** The monitor's live subscriptions (healthChanged): how many, whose, and each one's stream of reports. */
export class Subscribers {
  private watching = 0
  private readonly byClient = new Map<string, number>()

  constructor(
    private readonly monitor: Watched,
    private readonly limits: SubscriberLimits,
  ) {}

  get count(): number {
    return this.watching
  }

  /**
   * The current report, then every transition, until the consumer returns or the monitor stops.
   * Written by hand rather than with events.on() so that return() ends a consumer that is waiting.
   */
  watch(client: string): AsyncIterableIterator<HealthCheck> {
    const { maxWatchers = Number.POSITIVE_INFINITY, maxWatchersPerClient = maxWatchers } = this.limits
    if (this.watching >= maxWatchers) {
      throw new TooManyWatchersError(`at most ${maxWatchers} live subscriptions`)
    }
    const held = this.byClient.get(client) ?? 0
    if (held >= maxWatchersPerClient) {
      throw new TooManyWatchersError(`at most ${maxWatchersPerClient} live subscriptions per client`, true)
    }
    const queue: HealthCheck[] = []
    let wake: (() => void) | undefined
    let done = false
    this.watching++
    this.byClient.set(client, held + 1)
    // The stream ends as a finished subscription (not an error), and the client subscribes again.
    const lifetime = this.limits.maxWatchMs ? setTimeout(() => finish(), this.limits.maxWatchMs) : undefined
    lifetime?.unref()
    const onTransition = (report: HealthCheck) => {
      queue.push(report)
      if (queue.length > MAX_QUEUED_TRANSITIONS) queue.shift()
      wake?.()
    }
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(lifetime)
      this.watching--
      const left = (this.byClient.get(client) ?? 1) - 1
      if (left > 0) this.byClient.set(client, left)
      else this.byClient.delete(client)
      this.monitor.off('transition', onTransition)
      this.monitor.off('close', finish)
      wake?.()
    }
    this.monitor.on('transition', onTransition)
    this.monitor.once('close', finish)
    if (this.monitor.stopped) finish()
    else if (this.monitor.latest) queue.push(this.monitor.latest)
    else
      void this.monitor.check().then((report) => {
        // The monitor's first check may have queued this very report as its first transition already.
        if (!done && !queue.includes(report)) queue.unshift(report)
        wake?.()
      })

    const iterator: AsyncIterableIterator<HealthCheck> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (queue.length === 0 && !done) await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
        const value = queue.shift()
        return value ? { value, done: false } : { value: undefined, done: true }
      },
      return: async () => {
        finish()
        return { value: undefined, done: true }
      },
    }
    return iterator
  }
}
