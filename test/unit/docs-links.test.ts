import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

// Every relative link and anchor in the README and the docs must lead somewhere: the docs link to the one place
// each fact is said (a setting to configuration.md, a figure to measurements.md), so a renamed file or heading
// must fail here rather than leave a reader at a dead end. docs/seed/ is the seed's own text and is left alone.
const ROOT = resolve(import.meta.dirname, '../..')

function documents(root: string): string[] {
  const top = ['README.md', 'BENCHMARKS.md', 'CAPACITY.md'].filter((name) => existsSync(join(root, name)))
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name))
  return [...top, ...docs].map((name) => join(root, name))
}

/** The text outside fenced code blocks and inline code, where links and headings live. */
function prose(markdown: string): string[] {
  const lines: string[] = []
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced
    else if (!fenced) lines.push(line)
  }
  return lines
}

/** GitHub's anchor for a heading: the rendered text, lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const line of prose(readFileSync(file, 'utf8'))) {
    const heading = line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/)
    if (heading) {
      const base = slug(heading[1] ?? '')
      const count = seen.get(base) ?? 0
      seen.set(base, count + 1)
      anchors.add(count === 0 ? base : `${base}-${count}`)
    }
    for (const html of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(html[1] ?? '')
  }
  return anchors
}

/** The relative links of one file that lead nowhere, as `target: why`. */
function brokenLinks(file: string, root: string): string[] {
  const broken: string[] = []
  const text = prose(readFileSync(file, 'utf8'))
    .join('\n')
    .replace(/`[^`\n]*`/g, '')
  for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = match[1] ?? ''
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto:: not ours to check here
    const [path = '', anchor] = target.split('#', 2)
    const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path))
    if (relative(root, resolved).startsWith('..')) {
      broken.push(`${target}: outside the repository`)
    } else if (!existsSync(resolved)) {
      broken.push(`${target}: no such file`)
    } else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
      broken.push(`${target}: no such heading`)
    }
  }
  return broken
}

describe('relative links in the README and docs/', () => {
  const files = documents(ROOT)

  it('finds the documents', () => {
    expect(files.map((file) => relative(ROOT, file))).toEqual(
      expect.arrayContaining(['README.md', 'docs/configuration.md', 'docs/operations.md']),
    )
  })

  it.each(files.map((file) => [relative(ROOT, file), file]))(
    '%s: every link and anchor resolves',
    (_, file) => {
      expect(brokenLinks(file, ROOT)).toEqual([])
    },
  )
})

describe('the link checker', () => {
  const root = mkdtempSync(join(tmpdir(), 'docs-links-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('reports a missing file, a missing heading and a link out of the repository, and passes good ones', () => {
    writeFileSync(
      join(root, 'a.md'),
      [
        '# Top',
        '## Probes: `GET /livez` and `GET /readyz`',
        '## Top',
        '[ok](b.md#the-heading) [ok](#probes-get-livez-and-get-readyz) [ok](#top-1) [web](https://example.com/x#y)',
        '[gone](c.md) [bad anchor](b.md#nope) [out](../shared/x.md) `[in code](nowhere.md)`',
        '```',
        '[in a block](nowhere.md)',
        '```',
      ].join('\n'),
    )
    writeFileSync(join(root, 'b.md'), '# The heading\n')

    expect(brokenLinks(join(root, 'a.md'), root)).toEqual([
      'c.md: no such file',
      'b.md#nope: no such heading',
      '../shared/x.md: outside the repository',
    ])
  })
})
