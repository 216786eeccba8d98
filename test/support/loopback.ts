import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'

/**
 * A distinct loopback address per client: 127.<group>.<index / 250>.<1 + index % 250>. Linux answers on
 * the whole of 127.0.0.0/8, so each client of a test is a client address of its own to the service.
 */
export function loopbackAddress(group: number, index: number): string {
  return `127.${group}.${Math.floor(index / 250) % 256}.${1 + (index % 250)}`
}

/** A raw TCP connection to the service from `localAddress`; resolves once connected (or failed). */
export function connectFrom(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress })
    socket.on('error', () => {})
    socket.once('connect', () => resolve(socket))
    socket.once('close', () => resolve(socket))
  })
}

/** The status of the first answer on the socket, or how it ended without one. */
export function firstStatus(socket: Socket): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    let answer = ''
    const onData = (chunk: Buffer) => {
      answer += chunk.toString('latin1')
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]
      if (status) {
        socket.off('data', onData)
        resolve(Number(status))
      }
    }
    socket.on('data', onData)
    socket.once('close', () => resolve('closed'))
  })
}

/** Resident memory (VmRSS) of a process, sampled every 100 ms until stop(). */
export function sampleResident(pid: number) {
  const samples: Array<{ at: number; mb: number }> = []
  const read = () => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
      samples.push({ at: performance.now(), mb: kb / 1024 })
    } catch {
      // the process has gone; the test tells why
    }
  }
  read()
  const timer = setInterval(read, 100)
  return {
    now: () => samples.at(-1)?.mb ?? 0,
    /** The highest sample since `since` (performance.now()), and how many were taken. */
    peak(since = 0) {
      const taken = samples.filter((sample) => sample.at >= since)
      return { mb: Math.max(0, ...taken.map((sample) => sample.mb)), count: taken.length }
    },
    stop: () => clearInterval(timer),
  }
}

/** Counts of each outcome, for a test's log line: `3x 200, 1x closed`. */
export function tally(outcomes: Array<number | string>): string {
  const counts = new Map<string, number>()
  for (const outcome of outcomes) counts.set(String(outcome), (counts.get(String(outcome)) ?? 0) + 1)
  return [...counts].map(([outcome, n]) => `${n}x ${outcome}`).join(', ')
}
