/**
 * Runs at most one call per key at a time: callers that arrive while a call is in flight share its
 * promise. A storm of identical requests therefore costs the database one query at a time.
 */
export function singleFlight<K, T>(run: (key: K) => Promise<T>): (key: K) => Promise<T> {
  const inFlight = new Map<K, Promise<T>>()
  return (key) => {
    const pending = inFlight.get(key)
    if (pending) return pending
    const started = run(key).finally(() => inFlight.delete(key))
    inFlight.set(key, started)
    return started
  }
}
