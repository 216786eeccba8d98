import { GraphQLError } from 'graphql'
import type { HealthCheck } from '../db/database.js'
import { TooManyWatchersError } from '../health/subscribers.js'
import { builder } from './builder.js'

export interface HealthReport extends HealthCheck {
  container: string
}

// The seed's exact words: scripts and dashboards built on the Flask app compare against them.
export const HEALTHY = 'Healthy!'
export const UNHEALTHY = 'Unhealthy'

export const DatabaseRole = builder.enumType('DatabaseRole', {
  description: 'What the server is in a replication set, as pg_is_in_recovery() says.',
  values: { PRIMARY: { value: 'primary' }, STANDBY: { value: 'standby' } } as const,
})

export const Health = builder.objectRef<HealthReport>('Health').implement({
  description: 'The result of one live check of the database connection.',
  fields: (t) => ({
    healthy: t.exposeBoolean('healthy', {
      description: 'True when the database answered within the timeout.',
    }),
    status: t.string({
      description: `"${HEALTHY}" or "${UNHEALTHY}", as the original /health endpoint said.`,
      resolve: (report) => (report.healthy ? HEALTHY : UNHEALTHY),
    }),
    container: t.exposeString('container', { description: 'CONTAINER_NAME of this instance.' }),
    latencyMs: t.exposeFloat('latencyMs', { description: 'How long the check took, in milliseconds.' }),
    checkedAt: t.expose('checkedAt', { type: 'DateTime', description: 'When the check started.' }),
    reason: t.exposeString('reason', {
      nullable: true,
      description:
        'null when healthy; otherwise a short fixed reason such as "connection refused" or "timeout".',
    }),
    role: t.expose('role', {
      type: DatabaseRole,
      nullable: true,
      description: 'PRIMARY or STANDBY; null when the check failed or the server cannot say.',
    }),
    replayLagSeconds: t.exposeFloat('replayLagSeconds', {
      nullable: true,
      description:
        'On a standby, how far replay is behind: 0 when everything received is replayed, else the age of the last replayed transaction. null on a primary.',
    }),
  }),
})

builder.queryField('health', (t) =>
  t.field({
    type: Health,
    description:
      'Checks the database now (one query, which also asks its role). A dead database is reported here, not raised as an error.',
    resolve: async (_root, _args, ctx) => ({ ...(await ctx.monitor.check()), container: ctx.containerName }),
  }),
)

builder.subscriptionField('healthChanged', (t) =>
  t.field({
    type: Health,
    description:
      'The current health report at once, then a new one each time the database becomes reachable or unreachable.',
    subscribe: (_root, _args, ctx) => {
      try {
        return ctx.monitor.watch(ctx.client)
      } catch (error) {
        if (!(error instanceof TooManyWatchersError)) throw error
        // Over the client's own share: 429, the client's doing; all slots taken: 503, the server's state.
        const message = error.perClient
          ? 'Too many live subscriptions from your address: close one first.'
          : 'Too many live subscriptions: try again later.'
        throw new GraphQLError(message, {
          extensions: {
            code: 'TOO_MANY_SUBSCRIPTIONS',
            http: { status: error.perClient ? 429 : 503, headers: { 'retry-after': '30' } },
          },
        })
      }
    },
    resolve: (report, _args, ctx) => ({ ...report, container: ctx.containerName }),
  }),
)
