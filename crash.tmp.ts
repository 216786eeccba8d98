import { startTestPostgres } from './test/support/postgres.js'
import { startServiceProcess } from './test/support/process.js'
const pg = await startTestPostgres()
const { service, port, stop } = await startServiceProcess(pg.app, { HEALTH_INTERVAL_MS: '500' })
const hammer = async () => { for (let i = 0; i < 400; i++) await fetch(`http://127.0.0.1:${port}/number_of_tables`).catch(() => {}) }
const h = Promise.all([hammer(), hammer()])
await new Promise((r) => setTimeout(r, 300))
await pg.server.stop()
await h
console.log('exit', service.child.exitCode, service.child.signalCode)
console.log(service.stderr.join('\n').slice(0, 3000))
console.log(service.stdout.filter((l) => !l.includes('"msg":"request"')).slice(-8).join('\n'))
await stop().catch(() => {})
await pg.destroy()
