import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions'
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit'
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases'
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth'
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives'
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens'
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  type ValidationContext,
  type ValidationRule,
} from 'graphql'
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
  // As validation rules that report (armor's default is to throw), so that a refusal is a validation
  // error like any other: 400 for graphql-response+json clients, and counted under phase="validate".
  // Armor prefixes its messages with "Syntax Error: ", but these documents parsed: the prefix is dropped.
  const report = {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(
          new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { nodes: error.nodes }),
        ),
    ],
  }
  const rules: ValidationRule[] = [
    maxDepthRule({
      n: GRAPHQL_LIMITS.maxDepth,
      ignoreIntrospection: true,
      flattenFragments: true,
      ...report,
    }),
    maxAliasesRule({ n: GRAPHQL_LIMITS.maxAliases, ...report }),
    maxDirectivesRule({ n: GRAPHQL_LIMITS.maxDirectives, ...report }),
    costLimitRule({ maxCost: GRAPHQL_LIMITS.maxCost, ignoreIntrospection: true, ...report }),
  ]
  if (!options.introspection) rules.push(NoSchemaIntrospectionCustomRule)
  const plugins: Plugin[] = [
    // Counts tokens while parsing: an oversized document is refused before it is fully parsed.
    maxTokensPlugin({ n: GRAPHQL_LIMITS.maxTokens }),
    {
      onValidate: ({ addValidationRule }) => {
        for (const rule of rules) addValidationRule(rule)
      },
    },
  ]
  if (options.hideSuggestions) plugins.push(blockFieldSuggestionsPlugin())
  return plugins
}
