import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { StepCounts } from './load.js'

const ROOT = resolve(import.meta.dirname, '../../..')
/** Written by `npm run test:swarm` after a run in which every step passed; docs/deployment.md shows it. */
export const FIGURES_FILE = resolve(ROOT, 'docs/swarm-figures.json')
export const DOC_FILE = resolve(ROOT, 'docs/deployment.md')
const START = '<!-- swarm-figures:start -->'
const END = '<!-- swarm-figures:end -->'

export interface SwarmFigures {
  measured: string
  engine: string
  deployToHealthyMs: number
  rollout: StepCounts & { ms: number }
  kill: StepCounts & { replaceMs: number; firstTriesLost: number }
  badRelease: StepCounts & { rollbackMs: number; longestGapMs: number }
  databaseRestart: StepCounts & {
    answered503: number
    /** From the first to the last 503 the load saw. */
    outageMs: number
    /** From the moment the old PostgreSQL container was seen gone to the new one's start. */
    databaseDownMs: number
    /** Each replica's first 503, after the first 503 of any replica. */
    first503AfterFirstMs: number[]
    /** Each replica's first 200 after the new PostgreSQL container started. */
    back200Ms: number[]
  }
  suiteMs: number
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const range = (values: number[]) =>
  `${seconds(Math.min(...values))} to ${seconds(Math.max(...values))}`.replace(/^(\S+ s) to \1$/, '$1')

/** The Markdown that docs/deployment.md holds between its swarm-figures markers. */
export function renderFigures(figures: SwarmFigures): string {
  const row = (step: string, counts: StepCounts, time: string) =>
    `| ${step} | ${counts.requests} | ${counts.served} | ${counts.retried} | ${counts.failed} | ${time} |`
  const db = figures.databaseRestart
  return [
    '| Step | Requests | Served | Served on the retry | Failed | Time |',
    '| --- | --- | --- | --- | --- | --- |',
    row('Roll to a new image tag (3 replicas)', figures.rollout, `rollout ${seconds(figures.rollout.ms)}`),
    row(
      'Kill one task’s container',
      figures.kill,
      `replaced and healthy after ${seconds(figures.kill.replaceMs)}`,
    ),
    row(
      'Release an image that never becomes healthy',
      figures.badRelease,
      `rolled back by itself after ${seconds(figures.badRelease.rollbackMs)}; longest gap between answers ${seconds(figures.badRelease.longestGapMs)}`,
    ),
    row(
      'Stop PostgreSQL longer than the health check tolerates, then start it',
      db,
      `503 for ${seconds(db.outageMs)} (the database was down ${seconds(db.databaseDownMs)}); every replica said 503 within ${seconds(Math.max(...db.first503AfterFirstMs))} of the first, and 200 again ${range(db.back200Ms)} after the new PostgreSQL started`,
    ),
    '',
    `Measured ${figures.measured} by \`npm run test:swarm\` (${figures.engine}, a single-node swarm on this project's 2-core test machine), the whole suite in ${seconds(figures.suiteMs)}; the stack was healthy ${seconds(figures.deployToHealthyMs)} after \`docker stack deploy\`. A request is *served* when it got an answer without a 5xx, on its first try or its single retry to another replica; while the database is down 503 is the expected answer (counted as failed here).`,
  ].join('\n')
}

export function readFigures(): SwarmFigures {
  return JSON.parse(readFileSync(FIGURES_FILE, 'utf8')) as SwarmFigures
}

/** The figures section of docs/deployment.md as it is now. */
export function documentedFigures(doc = readFileSync(DOC_FILE, 'utf8')): string | undefined {
  const start = doc.indexOf(START)
  const end = doc.indexOf(END)
  if (start < 0 || end < start) return undefined
  return doc.slice(start + START.length, end).trim()
}

export function writeFigures(figures: SwarmFigures): void {
  const doc = readFileSync(DOC_FILE, 'utf8')
  if (documentedFigures(doc) === undefined) throw new Error(`${DOC_FILE} has no ${START} … ${END} section`)
  // As Biome formats JSON (lint checks it): short arrays of numbers on one line.
  const json = JSON.stringify(figures, null, 2).replace(
    /\[\s+([-\d.,\s]+?)\s+\]/g,
    (_, numbers: string) => `[${numbers.split(/,\s*/).join(', ')}]`,
  )
  writeFileSync(FIGURES_FILE, `${json}\n`)
  const before = doc.slice(0, doc.indexOf(START) + START.length)
  const after = doc.slice(doc.indexOf(END))
  writeFileSync(DOC_FILE, `${before}\n${renderFigures(figures)}\n${after}`)
}
