/** How many of `max` slots one client may hold: CLIENT_MAX_SHARE_PERCENT of them, at least one. */
export function clientShare(max: number, percent: number): number {
  return Math.max(1, Math.floor((max * percent) / 100))
}

/**
 * Slots of a bounded pool, counted in total and per client: take() refuses when the pool is full
 * ('full') or when this client already holds its share ('share'). Every take() that succeeds is given
 * back exactly once by the function it returns.
 */
export class SharedSlots {
  private total = 0
  private readonly byClient = new Map<string, number>()

  constructor(
    readonly max: number,
    readonly perClient: number,
  ) {}

  get count(): number {
    return this.total
  }

  heldBy(client: string): number {
    return this.byClient.get(client) ?? 0
  }

  /** `share` overrides perClient for this client (a trusted proxy's connections have none). */
  take(client: string, share = this.perClient): (() => void) | 'full' | 'share' {
    if (this.total >= this.max) return 'full'
    const held = this.heldBy(client)
    if (held >= share) return 'share'
    this.total++
    this.byClient.set(client, held + 1)
    let given = false
    return () => {
      if (given) return
      given = true
      this.total--
      const left = this.heldBy(client) - 1
      if (left > 0) this.byClient.set(client, left)
      else this.byClient.delete(client)
    }
  }
}
