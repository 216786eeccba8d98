/**
 * Runs at most one call per key at a time: callers that arrive while a call is in flight share its
 * promise. A storm of identical requests therefore costs the database one query at a time.
 */
export function singleFlight<I, T>(
  run: (input: I) => Promise<T>,
  keyOf: (input: I) => unknown = (input) => input,
): (input: I) => Promise<T> {
  const inFlight = new Map<unknown, Promise<T>>()
  return (input) => {
    const key = keyOf(input)
    const pending = inFlight.get(key)
    if (pending) return pending
    const started = run(input).finally(() => inFlight.delete(key))
    inFlight.set(key, started)
    return started
  }
}
