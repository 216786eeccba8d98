import type { SyntaxNode } from '@lezer/common'
import { parser } from '@prometheus-io/lezer-promql'

/** Labels Prometheus adds to every scraped series: a service never exports them itself. */
const TARGET_LABELS = new Set(['job', 'instance'])
/** Series Prometheus makes itself for each target, with their labels. */
const PROMETHEUS_SERIES: Record<string, string[]> = { up: [] }

/** Metric name -> label name -> the values seen, from a Prometheus text exposition (a /metrics body). */
export type Exposition = Map<string, Map<string, Set<string>>>

export function parseExposition(text: string): Exposition {
  const exposition: Exposition = new Map()
  for (const line of text.split('\n')) {
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line)
    if (!sample?.[1]) continue
    const labels = exposition.get(sample[1]) ?? new Map<string, Set<string>>()
    exposition.set(sample[1], labels)
    for (const [, name, value] of (sample[2] ?? '').matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      if (!name || value === undefined) continue
      labels.set(name, (labels.get(name) ?? new Set()).add(value))
    }
  }
  return exposition
}

interface Selector {
  metric: string | undefined
  matchers: Array<{ label: string; op: string; value: string }>
}

function unquote(literal: string): string {
  return literal.startsWith('"') ? (JSON.parse(literal) as string) : literal.slice(1, -1)
}

function childrenOf(node: SyntaxNode): SyntaxNode[] {
  const children: SyntaxNode[] = []
  for (let child = node.firstChild; child; child = child.nextSibling) children.push(child)
  return children
}

/** The selectors and the by/without/on/ignoring label names of a PromQL expression (Prometheus's own grammar). */
function readExpression(expr: string) {
  const tree = parser.parse(expr)
  const selectors: Selector[] = []
  const groupingLabels: string[] = []
  let parses = true
  const text = (node: SyntaxNode) => expr.slice(node.from, node.to)
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) parses = false
      const node = ref.node
      if (ref.name === 'VectorSelector') {
        const matchers = (node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []).map(
          (matcher) => {
            const [label, op, value] = childrenOf(matcher)
            return {
              label: label ? text(label) : '',
              op: op ? text(op) : '',
              value: value ? unquote(text(value)) : '',
            }
          },
        )
        const identifier = node.getChild('Identifier')
        selectors.push({ metric: identifier ? text(identifier) : undefined, matchers })
      }
      if (ref.name === 'LabelName' && node.parent?.name === 'GroupingLabels') groupingLabels.push(text(node))
    },
  })
  return { parses, selectors, groupingLabels }
}

/**
 * What is wrong with `expr` against what the service really exports: metrics it does not export, label
 * names its series do not carry, label values (of `=` matchers) it never produced, grouping labels no
 * selected series has. Prometheus's own series (`up`) and target labels (job, instance) are allowed.
 * An empty list means every name in the expression is real.
 */
export function problemsWith(expr: string, exposition: Exposition): string[] {
  const { parses, selectors, groupingLabels } = readExpression(expr)
  if (!parses) return [`does not parse: ${expr}`]
  const problems: string[] = []
  const selectedLabels = new Set(TARGET_LABELS)
  for (const { metric, matchers } of selectors) {
    if (!metric) {
      problems.push('a selector without a metric name')
      continue
    }
    const exported = exposition.get(metric)
    const ownLabels =
      exported ?? new Map(PROMETHEUS_SERIES[metric]?.map((label) => [label, new Set<string>()]))
    if (!exported && !(metric in PROMETHEUS_SERIES)) {
      problems.push(`${metric} is not exported by the service`)
      continue
    }
    for (const label of ownLabels.keys()) selectedLabels.add(label)
    for (const { label, op, value } of matchers) {
      if (TARGET_LABELS.has(label)) continue
      const values = ownLabels.get(label)
      if (!values) problems.push(`${metric} has no label ${label}`)
      else if (op === '=' && !values.has(value))
        problems.push(`${metric}{${label}="${value}"} is never exported (seen: ${[...values].join(', ')})`)
    }
  }
  for (const label of groupingLabels)
    if (!selectedLabels.has(label)) problems.push(`no selected series has the label ${label}`)
  return problems
}
