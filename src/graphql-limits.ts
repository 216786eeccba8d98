import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions'
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit'
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases'
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth'
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives'
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens'
import { NoSchemaIntrospectionCustomRule } from 'graphql'
import type { Plugin } from 'graphql-yoga'

/**
 * Limits every GraphQL document must pass before any resolver runs (and so before any database work).
 * The largest legitimate query here, GraphiQL's introspection, has under 200 tokens and depth 13.
 */
export const GRAPHQL_LIMITS = {
  /** Lexical tokens in a document: bounds parsing work. */
  maxTokens: 1000,
  /** Nesting of selections (introspection is exempt). */
  maxDepth: 10,
  /** Aliases in an operation: `{ a: health b: health ... }` cannot fan out. */
  maxAliases: 15,
  /** Directives in an operation. */
  maxDirectives: 50,
  /** graphql-armor's cost: 2 per object, 1 per scalar, times 1.5 per level of depth. */
  maxCost: 5000,
} as const

export interface GraphqlLimitOptions {
  introspection: boolean
  /** Hide "Did you mean ...?" hints, which reveal the schema when introspection is off or in production. */
  hideSuggestions: boolean
}

export function graphqlLimits(options: GraphqlLimitOptions): Plugin[] {
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: GRAPHQL_LIMITS.maxTokens }),
    maxDepthPlugin({ n: GRAPHQL_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesPlugin({ n: GRAPHQL_LIMITS.maxAliases }),
    maxDirectivesPlugin({ n: GRAPHQL_LIMITS.maxDirectives }),
    costLimitPlugin({ maxCost: GRAPHQL_LIMITS.maxCost, ignoreIntrospection: true }),
  ]
  if (!options.introspection) {
    plugins.push({
      onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
    })
  }
  if (options.hideSuggestions) plugins.push(blockFieldSuggestionsPlugin())
  return plugins
}
