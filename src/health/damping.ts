/**
 * A yes/no state that changes only after enough consecutive observations say otherwise, as Consul's
 * `failures_before_critical` and `success_before_passing` do: one lost packet must not take a replica
 * out of the load balancer, and one lucky answer must not put it back.
 */
export class Damper {
  private current: boolean | undefined
  private streak = 0

  /**
   * @param falseAfter consecutive `false` observations that turn a true state false
   * @param trueAfter consecutive `true` observations that turn a false state true
   * @param initial the state before any observation; undefined lets the first observation decide at once
   *   (so a service that starts against a healthy database is ready after one check, not N)
   */
  constructor(
    private readonly falseAfter: number,
    private readonly trueAfter: number,
    initial?: boolean,
  ) {
    if (!(falseAfter >= 1 && trueAfter >= 1)) throw new RangeError('thresholds must be 1 or more')
    this.current = initial
  }

  /** undefined until the first observation (when no initial state was given). */
  get state(): boolean | undefined {
    return this.current
  }

  /** Consecutive observations so far that disagree with the state (0 when the last one agreed). */
  get pending(): number {
    return this.streak
  }

  /** Records one observation; true when it changed the state. */
  observe(value: boolean): boolean {
    if (this.current === undefined) {
      this.current = value
      return true
    }
    if (value === this.current) {
      this.streak = 0
      return false
    }
    this.streak++
    if (this.streak < (value ? this.trueAfter : this.falseAfter)) return false
    this.current = value
    this.streak = 0
    return true
  }
}
