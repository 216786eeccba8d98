import type { ServerResponse } from 'node:http'

/**
 * A response waiting in the socket's write buffer beyond this is not being read (the kernel's own
 * buffers, several hundred KB on Linux, are full by then). 64 KB is many times any event of a live
 * subscription; a client still reading drains it, one that stays over it for STALLED_FOR_MS is gone.
 */
export const STALLED_BUFFER_BYTES = 64 * 1024
/** How long a response may stay over that bound before it is closed. */
export const STALLED_FOR_MS = 10_000
const SWEEP_MS = 1000

/**
 * Closes the connection of a response whose client stopped reading: a live subscription to a client
 * that never drains it would otherwise hold its slot and its buffered events for as long as the
 * stream lives. One timer sweeps every response watched, each checked once a second.
 */
export function createStalledResponseCloser(bufferBytes = STALLED_BUFFER_BYTES, forMs = STALLED_FOR_MS) {
  const watched = new Map<ServerResponse, number | undefined>()
  let sweeper: NodeJS.Timeout | undefined

  function sweep() {
    const now = performance.now()
    for (const [res, over] of watched) {
      const socket = res.socket
      if (!socket || socket.destroyed) {
        watched.delete(res)
      } else if (socket.writableLength <= bufferBytes) {
        watched.set(res, undefined)
      } else if (over === undefined) {
        watched.set(res, now)
      } else if (now - over >= forMs) {
        watched.delete(res)
        socket.destroy()
      }
    }
    if (watched.size === 0) {
      clearInterval(sweeper)
      sweeper = undefined
    }
  }

  return {
    watch(res: ServerResponse): void {
      watched.set(res, undefined)
      res.once('close', () => watched.delete(res))
      if (!sweeper) {
        sweeper = setInterval(sweep, Math.min(SWEEP_MS, forMs))
        sweeper.unref()
      }
    },
    get watching(): number {
      return watched.size
    },
  }
}
