import { spawn } from 'node:child_process'

/** What `openssl s_client` negotiates with 127.0.0.1:port; cipher is '(NONE)' when the handshake fails. */
export async function opensslHandshake(port: number, options: string[]) {
  const client = spawn(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...options],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let output = ''
  client.stdout.on('data', (chunk) => (output += chunk))
  client.stderr.on('data', (chunk) => (output += chunk))
  client.stdin.end() // s_client hangs up once its input ends
  const status = await new Promise<number | null>((resolve) => client.on('close', resolve))
  return { status, cipher: /Cipher is (\S+)/.exec(output)?.[1] ?? '(NONE)', output }
}
