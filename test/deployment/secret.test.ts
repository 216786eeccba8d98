import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../support/dockerfile.js'

const SCRIPT = resolve(ROOT, 'scripts/secret.sh')

function secret(command: string, dir: string, passphrase: string | undefined, ...args: string[]) {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: dir, SECRET_DIR: dir }
  if (passphrase !== undefined) env.DB_SECRET_PASSPHRASE = passphrase
  const run = spawnSync('bash', [SCRIPT, command, ...args], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

function packets(file: string): string {
  const run = spawnSync(
    'gpg',
    ['--batch', '--list-packets', '--pinentry-mode', 'loopback', '--passphrase', '', file],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', GNUPGHOME: mkdtempSync(join(tmpdir(), 'gnupg-')) },
    },
  )
  return `${run.stdout}${run.stderr}`
}

describe('the database password secret', () => {
  it.each(['db_password', 'db_admin_password'])(
    '%s is committed only encrypted (gpg, AES-256), its plain file git-ignored',
    (name) => {
      expect(packets(resolve(ROOT, `${name}.txt.gpg`))).toMatch(/symkey enc packet: version \d, cipher 9/)
      expect(readFileSync(resolve(ROOT, '.gitignore'), 'utf8').split('\n')).toContain(`${name}.txt`)
    },
  )

  it('`secret:new` makes a random password and its AES-256 encrypted file; `secret:decrypt` gets it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-'))

    const made = secret('new', dir, 'correct horse')
    const password = readFileSync(join(dir, 'db_password.txt'), 'utf8')
    unlinkSync(join(dir, 'db_password.txt'))
    const decrypted = secret('decrypt', dir, 'correct horse')

    expect(made.status, made.stderr).toBe(0)
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}\n$/)
    expect(packets(join(dir, 'db_password.txt.gpg'))).toMatch(/cipher 9/)
    expect(decrypted.status, decrypted.stderr).toBe(0)
    expect(readFileSync(join(dir, 'db_password.txt'), 'utf8')).toBe(password)
    expect(statSync(join(dir, 'db_password.txt')).mode & 0o777).toBe(0o644)
    expect(`${made.stdout}${made.stderr}${decrypted.stdout}${decrypted.stderr}`).not.toContain(
      password.trim(),
    )
    const admin = readFileSync(join(dir, 'db_admin_password.txt'), 'utf8')
    expect(admin).toMatch(/^[A-Za-z0-9_-]{32}\n$/)
    expect(admin).not.toBe(password)
  })

  it('`npm run secret:local` writes random plain passwords for compose, without the passphrase or touching the .gpg files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-'))
    for (const name of ['db_password', 'db_admin_password'])
      copyFileSync(resolve(ROOT, `${name}.txt.gpg`), join(dir, `${name}.txt.gpg`))
    const run = (...args: string[]) =>
      spawnSync('npm', ['run', '--silent', 'secret:local', ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: dir, SECRET_DIR: dir },
        encoding: 'utf8',
      })

    const first = run()
    const passwords = ['db_password', 'db_admin_password'].map((name) =>
      readFileSync(join(dir, `${name}.txt`), 'utf8'),
    )
    const again = run()
    const forced = run('--', '--force')

    expect(first.status, first.stderr).toBe(0)
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9_-]{32}\n$/)
    expect(passwords[0]).not.toBe(passwords[1])
    expect(statSync(join(dir, 'db_password.txt')).mode & 0o777).toBe(0o644)
    for (const name of ['db_password', 'db_admin_password'])
      expect(readFileSync(join(dir, `${name}.txt.gpg`))).toEqual(
        readFileSync(resolve(ROOT, `${name}.txt.gpg`)),
      )
    expect(`${first.stdout}${first.stderr}`).not.toContain(passwords[0]?.trim())
    // A second run keeps the passwords a database volume may already hold, unless told otherwise.
    expect(again.status).toBe(1)
    expect(again.stderr).toContain(
      "db_password.txt exists (compose uses it); to replace both passwords, run 'npm run secret:local -- --force'",
    )
    expect(readFileSync(join(dir, 'db_password.txt'), 'utf8')).not.toBe(passwords[0])
    expect(forced.status, forced.stderr).toBe(0)
  })

  it('two runs of `secret:new` make two different passwords', () => {
    const first = mkdtempSync(join(tmpdir(), 'secret-'))
    const second = mkdtempSync(join(tmpdir(), 'secret-'))

    secret('new', first, 'p')
    secret('new', second, 'p')

    expect(readFileSync(join(first, 'db_password.txt'), 'utf8')).not.toBe(
      readFileSync(join(second, 'db_password.txt'), 'utf8'),
    )
  })

  it('`secret:new` refuses to replace existing encrypted files without --force, and says how', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-'))
    secret('new', dir, 'first')
    const before = readFileSync(join(dir, 'db_password.txt.gpg'))

    const refused = secret('new', dir, 'second')
    const unchanged = readFileSync(join(dir, 'db_password.txt.gpg'))
    const forced = secret('new', dir, 'second', '--force')

    expect(refused.status).toBe(1)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(refused.stderr).toContain("run 'npm run secret:new -- --force'")
    expect(unchanged.equals(before)).toBe(true)
    expect(forced.status).toBe(0)
    expect(readFileSync(join(dir, 'db_password.txt.gpg')).equals(before)).toBe(false)
  })

  it('a wrong passphrase fails in one line and leaves no plain file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-'))
    secret('new', dir, 'right')
    unlinkSync(join(dir, 'db_password.txt'))

    const result = secret('decrypt', dir, 'wrong')

    expect(result.status).toBe(1)
    expect(result.stderr.trim()).toBe(
      `secret: cannot decrypt ${join(dir, 'db_password.txt.gpg')}: wrong passphrase or damaged file`,
    )
    expect(existsSync(join(dir, 'db_password.txt'))).toBe(false)
  })

  it('with no passphrase and no terminal, says how to give one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-'))

    const result = spawnSync('setsid', ['bash', SCRIPT, 'new'], {
      env: { PATH: process.env.PATH ?? '', SECRET_DIR: dir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })

    expect(result.status).toBe(1)
    expect(result.stderr).toContain('set DB_SECRET_PASSPHRASE or run this in a terminal')
  })
})
