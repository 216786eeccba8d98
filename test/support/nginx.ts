import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { findFreePort } from '../../src/net/free-port.js'
import type { Certificates } from './certificates.js'
import { ROOT } from './dockerfile.js'

// Debian's nginx (.ci/run installs it).
const NGINX = '/usr/sbin/nginx'
export const SHIPPED_NGINX_CONFIG = resolve(ROOT, 'deploy/nginx/ctera-app.conf')

export interface RunningNginx {
  httpsPort: number
  httpPort: number
  /** The errors in nginx's log (its warnings left out), for a failing test to show. */
  errorLog(): string
  stop(): void
}

/**
 * Runs the shipped deploy/nginx/ctera-app.conf in front of the app at appPort, with only the upstream
 * address, the listen ports and the certificate paths changed for this machine. `edit` may change the
 * site further (a test's variant of the shipped file).
 */
export async function startNginx(
  appPort: number,
  certificates: Certificates,
  edit: (site: string) => string = (site) => site,
): Promise<RunningNginx> {
  const httpsPort = await findFreePort()
  const httpPort = await findFreePort()
  const dir = mkdtempSync(join(tmpdir(), 'ctera-nginx-'))
  const site = edit(readFileSync(SHIPPED_NGINX_CONFIG, 'utf8'))
    .replace('server ctera-app:5001;', `server 127.0.0.1:${appPort};`)
    .replace('listen 443 ssl', `listen 127.0.0.1:${httpsPort} ssl`)
    .replace('listen 80;', `listen 127.0.0.1:${httpPort};`)
    .replace('/etc/nginx/tls/server.crt', certificates.certFile)
    .replace('/etc/nginx/tls/server.key', certificates.keyFile)
  writeFileSync(join(dir, 'ctera-app.conf'), site)
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub))
  writeFileSync(
    join(dir, 'nginx.conf'),
    `
    daemon off;
    worker_processes 1;
    pid ${dir}/nginx.pid;
    error_log ${dir}/error.log warn;
    ${process.getuid?.() === 0 ? 'user root;' : ''}
    events { worker_connections 128; }
    http {
      access_log off;
      client_body_temp_path ${dir}/body;
      proxy_temp_path ${dir}/proxy;
      fastcgi_temp_path ${dir}/fastcgi;
      uwsgi_temp_path ${dir}/uwsgi;
      scgi_temp_path ${dir}/scgi;
      include ${dir}/ctera-app.conf;
    }`,
  )
  const nginx: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' })
  const errorLog = () => {
    try {
      const lines = readFileSync(join(dir, 'error.log'), 'utf8').split('\n')
      return lines.filter((line) => / \[(error|crit|alert|emerg)\] /.test(line)).join('\n')
    } catch {
      return ''
    }
  }
  try {
    await waitForPort(httpsPort)
  } catch (error) {
    nginx.kill('SIGKILL')
    throw new Error(`${(error as Error).message}: ${errorLog()}`)
  }
  return { httpsPort, httpPort, errorLog, stop: () => nginx.kill('SIGQUIT') }
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy()
        done(true)
      })
      socket.on('error', () => done(false))
    })
    if (open) return
    await new Promise((wait) => setTimeout(wait, 50))
  }
  throw new Error(`nginx did not listen on ${port}`)
}
