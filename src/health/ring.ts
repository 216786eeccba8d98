/** An entry of a Ring, numbered in the order it was added (from 1, never reused). */
export interface Numbered<T> {
  sequence: number
  value: T
}

/** One page of a Ring, newest first. */
export interface RingPage<T> {
  entries: Array<Numbered<T>>
  /** True when older entries than the last one returned are still held. */
  hasMore: boolean
}

/**
 * The last `capacity` values added, in a fixed array: memory stays the same whatever the uptime, and
 * adding is O(1) with no copying. The oldest value is overwritten once the ring is full.
 */
export class Ring<T> {
  private readonly slots: Array<Numbered<T> | undefined>
  private added = 0

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer')
    this.slots = new Array(capacity).fill(undefined)
  }

  /** How many values are held (at most capacity). */
  get size(): number {
    return Math.min(this.added, this.capacity)
  }

  /** The number of the newest value, 0 when empty. */
  get lastSequence(): number {
    return this.added
  }

  push(value: T): Numbered<T> {
    this.added++
    const entry = { sequence: this.added, value }
    this.slots[(this.added - 1) % this.capacity] = entry
    return entry
  }

  /** Up to `first` values, newest first, older than sequence `before` when given. */
  page(first: number, before?: number): RingPage<T> {
    const oldest = this.added - this.size + 1
    const start = Math.min(this.added, before === undefined ? this.added : before - 1)
    const entries: Array<Numbered<T>> = []
    let sequence = start
    for (; sequence >= oldest && entries.length < first; sequence--) {
      const entry = this.slots[(sequence - 1) % this.capacity]
      if (entry) entries.push(entry)
    }
    return { entries, hasMore: sequence >= oldest }
  }

  /** The newest value, if any. */
  newest(): T | undefined {
    return this.added === 0 ? undefined : this.slots[(this.added - 1) % this.capacity]?.value
  }
}
