import type { TracingConfig } from '../config/tracing-settings.js'
import type { Logger } from '../logger.js'
import { setTracingEnabled } from './spans.js'

const EXPORT_ERROR_LOG_INTERVAL_MS = 60_000

export interface Tracing {
  /** Sends the spans still buffered and stops; safe to call twice. */
  shutdown(): Promise<void>
}

/**
 * Registers OpenTelemetry's SDK: W3C trace context in and out, the configured sampler, batches of spans
 * POSTed as OTLP/HTTP JSON. The SDK is imported only here, so a service without tracing never loads it.
 */
export async function startTracing(config: TracingConfig, logger: Logger): Promise<Tracing> {
  const [api, sdk, { AsyncLocalStorageContextManager }, core, resources, { OTLPTraceExporter }] =
    await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/core'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ])

  // A collector that is down must not flood the log: one line a minute at most, never the endpoint's query.
  let lastExportError = 0
  api.diag.setLogger(
    {
      error: (message) => {
        if (Date.now() - lastExportError < EXPORT_ERROR_LOG_INTERVAL_MS) return
        lastExportError = Date.now()
        logger.warn(
          { detail: String(message).split('\n')[0]?.slice(0, 200) },
          'tracing: spans could not be sent',
        )
      },
      warn: () => {},
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    api.DiagLogLevel.ERROR,
  )

  const ratio = new sdk.TraceIdRatioBasedSampler(config.ratio)
  const samplers = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: () => ratio,
    parentbased_always_on: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new sdk.ParentBasedSampler({ root: ratio }),
  } satisfies Record<TracingConfig['sampler'], () => unknown>

  const resource = resources
    .resourceFromAttributes({ 'service.name': config.serviceName })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }))
  const provider = new sdk.TracerProvider({
    resource,
    sampler: samplers[config.sampler](),
    spanProcessors: [
      new sdk.BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: config.endpoint }),
        scheduledDelayMillis: config.scheduleDelayMs,
        // Bounded: a collector that is away costs at most this many spans of memory.
        maxQueueSize: 2048,
      }),
    ],
  })
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator())
  api.trace.setGlobalTracerProvider(provider)
  setTracingEnabled(true)
  logger.info(
    { endpoint: new URL(config.endpoint).origin, sampler: config.sampler, ratio: config.ratio },
    'tracing: sending spans over OTLP/HTTP',
  )

  let stopping: Promise<void> | undefined
  return {
    shutdown: () => {
      stopping ??= provider.shutdown().finally(() => setTracingEnabled(false))
      return stopping
    },
  }
}
