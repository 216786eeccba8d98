import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { getOperationAST } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { tracer, tracingEnabled } from './spans.js'

/**
 * One span per GraphQL execution, named as the semantic conventions say (`query Overview`), child of the
 * request's HTTP span; the resolvers' database spans become its children. Nothing at all while tracing is off.
 */
export function useGraphqlTracing(): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (!tracingEnabled()) return
      const operation = getOperationAST(args.document, args.operationName)
      const type = operation?.operation ?? 'query'
      const name = operation?.name?.value
      const parent = context.active()
      const span = tracer().startSpan(
        name ? `${type} ${name}` : type,
        {
          kind: SpanKind.INTERNAL,
          attributes: { 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) },
        },
        parent,
      )
      const withSpan = trace.setSpan(parent, span)
      setExecuteFn((executeArgs) => context.with(withSpan, () => executeFn(executeArgs)))
      return {
        onExecuteDone({ result }) {
          if ('errors' in result && result.errors?.length) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: 'GraphQL errors' })
          }
          span.end()
        },
      }
    },
  }
}
