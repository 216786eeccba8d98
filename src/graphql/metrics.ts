import { createCounter, createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus'
import type { Registry } from 'prom-client'

/**
 * GraphQL operation count, duration and errors from yoga's Prometheus plugin, renamed to Prometheus
 * conventions (`_total` counters, snake_case labels) so the exposition passes `promtool check metrics`.
 * The operation name is not a label: clients choose it, so it could grow the series without bound.
 */
export function useGraphqlMetrics(registry: Registry) {
  const operationType = (params: { operationType?: string }) => ({
    operation_type: params.operationType ?? 'unknown',
  })
  return usePrometheus({
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
}
