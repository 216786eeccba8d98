import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import {
  isSupportedNode,
  SUPPORTED_NODE_IN_WORDS,
  SUPPORTED_NODE_RANGE,
  unsupportedNodeMessage,
} from '../../src/node-version.js'

const root = new URL('../../', import.meta.url)
const packageJson = JSON.parse(await readFile(new URL('package.json', root), 'utf8'))

describe('the supported Node.js versions', () => {
  it.each([
    ['20.20.2', false],
    ['22.14.0', false],
    ['22.15.0', true],
    ['22.22.1', true],
    ['23.11.0', false],
    ['24.0.0', true],
    ['26.1.0', true],
  ])('%s supported: %s', (version, supported) => {
    expect(isSupportedNode(version)).toBe(supported)
    expect(unsupportedNodeMessage(version) === undefined).toBe(supported)
  })

  it('refuses in one line: the version found, the versions supported, and how to run the project’s Node', () => {
    const message = unsupportedNodeMessage('20.20.2') ?? ''

    expect(message).not.toContain('\n')
    expect(message).toContain('Node.js 20.20.2 is not supported')
    expect(message).toContain(SUPPORTED_NODE_IN_WORDS)
    expect(message).toContain('npm start')
  })

  it('is what package.json’s engines and the README say', async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8')

    expect(packageJson.engines.node).toBe(SUPPORTED_NODE_RANGE)
    expect(readme).toContain(`Node.js ${SUPPORTED_NODE_IN_WORDS}`)
  })

  it('pins the npm scripts’ Node 24 as a development dependency only (the image must not carry it)', () => {
    expect(packageJson.devDependencies.node).toMatch(/^24\.\d+\.\d+$/)
    expect(packageJson.dependencies.node).toBeUndefined()
    expect(isSupportedNode(packageJson.devDependencies.node)).toBe(true)
    // npm runs a dependency's install script (here: fetching the binary) only when allowScripts names it.
    expect(packageJson.allowScripts.node).toBe(true)
  })
})
