import { type Env, readBoolean, readChoice, readInteger, readRatio, readString, readUrl } from './readers.js'

/** OTEL_TRACES_SAMPLER's values, as the OpenTelemetry specification names them. */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const
export type TraceSampler = (typeof TRACE_SAMPLERS)[number]

/** From the standard OTEL_* variables (the exporter reads OTEL_EXPORTER_OTLP_HEADERS and the like itself). */
export interface TracingConfig {
  /** Where spans are POSTed (OTLP/HTTP, JSON). May carry credentials in its query: log its origin only. */
  endpoint: string
  sampler: TraceSampler
  /** The ratio of the *traceidratio samplers, from 0 to 1. */
  ratio: number
  serviceName: string
  /** Spans are sent in batches this often (OTEL_BSP_SCHEDULE_DELAY). */
  scheduleDelayMs: number
}

/**
 * Tracing is off unless an OTLP endpoint is set (and OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none do not
 * turn it off). Every variable is checked either way, so a typo fails at start-up rather than silently.
 */
export function readTracing(env: Env): TracingConfig | undefined {
  const disabled = readBoolean(env, 'OTEL_SDK_DISABLED', false)
  const exporter = readChoice(env, 'OTEL_TRACES_EXPORTER', ['otlp', 'none'], 'otlp')
  readChoice(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', ['http/json'], 'http/json')
  const tracesEndpoint = readUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  const baseEndpoint = readUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')
  // Sampled by default: one trace in ten starts here; a caller's sampled traceparent is always followed.
  const sampler = readChoice(env, 'OTEL_TRACES_SAMPLER', TRACE_SAMPLERS, 'parentbased_traceidratio')
  const ratio = readRatio(env, 'OTEL_TRACES_SAMPLER_ARG', 0.1)
  const serviceName = readString(env, 'OTEL_SERVICE_NAME') ?? 'ctera-app'
  const scheduleDelayMs = readInteger(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 1, 600_000)
  const endpoint = tracesEndpoint ?? (baseEndpoint && `${baseEndpoint.replace(/\/+$/, '')}/v1/traces`)
  if (disabled || exporter === 'none' || !endpoint) return undefined
  return { endpoint, sampler, ratio, serviceName, scheduleDelayMs }
}
