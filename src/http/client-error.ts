import type { Duplex } from 'node:stream'

/** How long, and how much, a refused client's leftover request is still read before the socket closes. */
const LINGER_MS = 2000
const LINGER_BYTES = 1024 * 1024

const ANSWERS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
}

/**
 * Answers a request Node could not parse (or that timed out) as Node's own handler does (431 for
 * headers over the limit, 408, else 400), but closes like nginx's lingering_close: Node destroys the
 * socket at once, and a socket closed with unread bytes (the rest of a 64 KB header) makes the kernel
 * send a reset, which can reach the client before the answer; curl then reports "connection reset"
 * instead of 431. So the answer is sent, our side is shut, and what the client still sends is read and
 * dropped, up to 1 MB or 2 s.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const answered = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
  if (!socket.writable || answered) return void socket.destroy()
  const status = ANSWERS[error.code ?? ''] ?? '400 Bad Request'
  // The HTTP parser has failed: from here the bytes are only counted and dropped.
  socket.removeAllListeners('data')
  let read = 0
  socket.on('data', (chunk: Buffer) => {
    read += chunk.length
    if (read > LINGER_BYTES) socket.destroy()
  })
  socket.on('error', () => socket.destroy())
  const timer = setTimeout(() => socket.destroy(), LINGER_MS)
  timer.unref()
  socket.once('close', () => clearTimeout(timer))
  // Node's own bytes, word for word.
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`)
  socket.resume()
}
