import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { ConfigError } from '../../src/config/readers.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctera-auth-config-'))
})

async function tokenFile(contents: string): Promise<string> {
  const file = join(dir, `token-${Math.random().toString(36).slice(2)}`)
  await writeFile(file, contents)
  return file
}

function errorOf(file: string): string {
  try {
    loadConfig({ AUTH_TOKEN_FILE: file })
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('AUTH_TOKEN_FILE', () => {
  it('is off unless set (an empty value counts as unset, like every variable)', () => {
    expect(loadConfig({}).authToken).toBeUndefined()
    expect(loadConfig({ AUTH_TOKEN_FILE: '  ' }).authToken).toBeUndefined()
  })

  it.each([
    [
      'a hex token and the newline echo leaves',
      '0123456789abcdef0123456789abcdef\n',
      '0123456789abcdef0123456789abcdef',
    ],
    ['a Windows line ending', 'abcdefghijklmnopqrstuvwxyz\r\n', 'abcdefghijklmnopqrstuvwxyz'],
    ['base64 with padding', 'dG9rZW4tdG9rZW4tdG9rZW4tdG9rZW4=\n', 'dG9rZW4tdG9rZW4tdG9rZW4tdG9rZW4='],
    ['every character RFC 6750 allows', 'Az09-._~+/Az09-._~+/', 'Az09-._~+/Az09-._~+/'],
  ])('reads %s', async (_kind, contents, token) => {
    expect(loadConfig({ AUTH_TOKEN_FILE: await tokenFile(contents) }).authToken).toBe(token)
  })

  it.each([
    ['15 characters', '0123456789abcde'],
    ['a space inside', '0123456789abcdef 0123456789abcdef'],
    ['a quote', '0123456789abcdef"0123456789abcdef'],
    ['two lines', '0123456789abcdef\n0123456789abcdef\n'],
    ['padding inside', '0123456789=abcdef0123456789'],
  ])('refuses %s, without echoing the file', async (_kind, contents) => {
    const file = await tokenFile(contents)

    const message = errorOf(file)

    expect(message).toMatch(
      /^AUTH_TOKEN_FILE: .* must hold one line of 16 or more letters, digits or -\._~\+\/ /,
    )
    expect(message).not.toContain('0123456789abcde')
  })

  it('refuses an empty file and one larger than 4096 bytes', async () => {
    const empty = await tokenFile('\n')
    const large = await tokenFile('a'.repeat(4097))

    expect(errorOf(empty)).toBe(`AUTH_TOKEN_FILE: ${empty} is empty`)
    expect(errorOf(large)).toBe(`AUTH_TOKEN_FILE: ${large} is larger than 4096 bytes`)
  })
})
