import { createCounter, createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus'
import type { Counter, Registry } from 'prom-client'

/**
 * GraphQL operation count, duration and errors from yoga's Prometheus plugin, renamed to Prometheus
 * conventions (`_total` counters, snake_case labels) so the exposition passes `promtool check metrics`.
 * The operation name is not a label: clients choose it, so it could grow the series without bound.
 */
export function useGraphqlMetrics(registry: Registry) {
  const operationType = (params: { operationType?: string }) => ({
    operation_type: params.operationType ?? 'unknown',
  })
  const plugin = usePrometheus({
    registry,
    endpoint: false, // /metrics is served by the app, with these included
    skipIntrospection: true,
    metrics: {
      graphql_envelop_request_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_request_duration_seconds',
          help: 'Time to run GraphQL operations (its _count is the number of operations).',
          labelNames: ['operation_type'],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        },
        fillLabelsFn: operationType,
      }),
      graphql_envelop_error_result: createCounter({
        registry,
        counter: {
          name: 'graphql_errors_total',
          help: 'GraphQL operations that ended with errors, by the phase that failed.',
          labelNames: ['operation_type', 'phase'],
        },
        fillLabelsFn: (params) => ({ ...operationType(params), phase: params.errorPhase ?? 'unknown' }),
      }),
      // The operation count is graphql_request_duration_seconds_count: a separate counter would repeat it.
      graphql_envelop_request: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_execute_resolver: false,
      graphql_yoga_http_duration: false, // http_request_duration_seconds covers every route
    },
  })
  // At 0 from the start, like the other series: the dashboard's "errors by phase" draws 0 rather than
  // "No data", and the first error is an increase that rate() sees. A document that does not parse has no
  // operation type yet; the schema has queries and subscriptions.
  const errors = registry.getSingleMetric('graphql_errors_total') as Counter<'operation_type' | 'phase'>
  errors.labels({ operation_type: 'unknown', phase: 'parse' }).inc(0)
  for (const operation_type of ['query', 'subscription'])
    for (const phase of ['validate', 'execute']) errors.labels({ operation_type, phase }).inc(0)
  return plugin
}
