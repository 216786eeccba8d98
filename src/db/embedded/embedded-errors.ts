/** The embedded PostgreSQL could not be set up or started: its message is the one line the user reads. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError'
}
