// `npm run dev`: runs the service from source (tsx) and restarts it when a file in src/ changes.
// tsx watch kills the service when Ctrl-C arrives in a terminal (SIGKILL, as its child has the signal
// already), cutting its graceful shutdown short; this runner forwards the signal and waits instead.
import { spawn } from 'node:child_process'
import { watch } from 'node:fs'

let service
let restarting = false
let stopping = false
const running = () => service && service.exitCode === null && service.signalCode === null

function start() {
  service = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { stdio: 'inherit' })
  service.on('exit', (code, signal) => {
    if (stopping) process.exit(code ?? 0)
    if (restarting) {
      restarting = false
      start()
      return
    }
    console.error(
      `dev: the service exited (${code ?? signal}); waiting for a change in src/ to start it again`,
    )
  })
}

let debounce
watch('src', { recursive: true }, () => {
  clearTimeout(debounce)
  debounce = setTimeout(() => {
    if (!running()) return start()
    restarting = true
    service.kill('SIGTERM')
  }, 150)
})

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopping = true
    if (!running()) process.exit(0)
    // From a terminal the service has the same signal already (one process group); it ignores the copy.
    service.kill(signal)
  })
}

start()
