import type { HealthCheck } from '../db/database.js'
import type { HealthTransition } from '../health/damping.js'
import type { Ring } from '../health/ring.js'
import { builder } from './builder.js'
import { PageInfo } from './database-insight.js'
import { badUserInput } from './graphql-errors.js'
import { Health } from './health.js'

const DEFAULT_PAGE_SIZE = 20
const MAX_PAGE_SIZE = 100
// A cursor is an entry's sequence number; 15 digits stay exact in a double, and no uptime reaches them.
const CURSOR = /^[1-9]\d{0,14}$/

interface Page<T> {
  nodes: T[]
  pageInfo: { hasNextPage: boolean; endCursor: string | null }
}

const pageArgs = builder.args((t) => ({
  first: t.int({ defaultValue: DEFAULT_PAGE_SIZE, description: `From 1 to ${MAX_PAGE_SIZE}.` }),
  after: t.string({ description: 'The endCursor of the previous page: older entries follow.' }),
}))

const Transition = builder.objectRef<HealthTransition>('HealthTransition').implement({
  description: 'A confirmed change of the monitor\u2019s state: readiness changes with it.',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime', description: 'When the check that confirmed it started.' }),
    healthy: t.exposeBoolean('healthy', { description: 'The state from then on.' }),
    reason: t.exposeString('reason', {
      nullable: true,
      description:
        'Why it turned unhealthy: a failure reason, or "not primary" / "replica lagging" under a readiness policy. null when it turned healthy.',
    }),
    latencyMs: t.exposeFloat('latencyMs', { description: 'How long the confirming check took.' }),
  }),
})

const CheckConnection = builder.objectRef<Page<HealthCheck>>('HealthCheckConnection').implement({
  description: 'One page of the monitor\u2019s checks, newest first.',
  fields: (t) => ({
    nodes: t.field({
      type: [Health],
      resolve: (page, _args, ctx) => page.nodes.map((check) => ({ ...check, container: ctx.containerName })),
    }),
    pageInfo: t.field({ type: PageInfo, resolve: (page) => page.pageInfo }),
  }),
})

const TransitionConnection = builder
  .objectRef<Page<HealthTransition>>('HealthTransitionConnection')
  .implement({
    description: 'One page of the monitor\u2019s transitions, newest first.',
    fields: (t) => ({
      nodes: t.field({ type: [Transition], resolve: (page) => page.nodes }),
      pageInfo: t.field({ type: PageInfo, resolve: (page) => page.pageInfo }),
    }),
  })

const History = builder.objectRef<Record<string, never>>('HealthHistory').implement({
  description:
    'What the background monitor saw recently, kept in memory: its last HEALTH_HISTORY_SIZE checks and as many transitions. On-demand checks (/health, the health field) are not in it.',
  fields: (t) => ({
    size: t.int({
      description: 'How many checks (and how many transitions) are kept at most.',
      resolve: (_history, _args, ctx) => ctx.monitor.state.checks.capacity,
    }),
    checks: t.field({
      type: CheckConnection,
      args: pageArgs,
      resolve: (_history, args, ctx) => pageOf(ctx.monitor.state.checks, args),
    }),
    transitions: t.field({
      type: TransitionConnection,
      args: pageArgs,
      resolve: (_history, args, ctx) => pageOf(ctx.monitor.state.transitions, args),
    }),
  }),
})

builder.queryField('healthHistory', (t) =>
  t.field({
    type: History,
    description: 'The monitor\u2019s recent checks and transitions, from memory: never touches the database.',
    resolve: () => ({}),
  }),
)

function pageOf<T>(ring: Ring<T>, args: { first?: number | null; after?: string | null }): Page<T> {
  const first = args.first ?? DEFAULT_PAGE_SIZE
  if (first < 1 || first > MAX_PAGE_SIZE) throw badUserInput(`first must be from 1 to ${MAX_PAGE_SIZE}`)
  let before: number | undefined
  if (args.after != null) {
    if (!CURSOR.test(args.after)) throw badUserInput('after is not a cursor returned by this API')
    before = Number(args.after)
  }
  const { entries, hasMore } = ring.page(first, before)
  const last = entries.at(-1)
  return {
    nodes: entries.map((entry) => entry.value),
    pageInfo: { hasNextPage: hasMore, endCursor: last ? String(last.sequence) : null },
  }
}
