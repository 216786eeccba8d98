import { Writable } from 'node:stream'

export interface LogSink {
  /** The logger's destination (createLogger(level, sink.stream)). */
  stream: Writable
  /** Every line written so far, as written. */
  lines: string[]
  /** Every line written so far, parsed (the logger writes one JSON object a line). */
  records: Array<Record<string, unknown>>
}

/** Keeps what a logger writes, for a test to read back. */
export function createLogSink(): LogSink {
  const lines: string[] = []
  const records: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        lines.push(line)
        records.push(JSON.parse(line))
      }
      done()
    },
  })
  return { stream, lines, records }
}
