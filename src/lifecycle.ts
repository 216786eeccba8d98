/**
 * Whether the service is on its way down. Set by the first shutdown step; read by readiness (503 at
 * once, so load balancers stop sending) and by every response (`Connection: close`, so no keep-alive
 * connection is cut between two requests). Liveness is unaffected.
 */
export class Lifecycle {
  private shuttingDown = false

  beginShutdown(): void {
    this.shuttingDown = true
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown
  }
}
