import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Config } from '../config/load-config.js'
import { enforceBodyDeadline } from './body-deadline.js'
import type { ClientAddressOf } from './client-address.js'
import { clientShare } from './client-share.js'
import { createInFlightLimit } from './in-flight-limit.js'
import type { RestResponse } from './respond.js'
import { createStalledResponseCloser } from './stalled-responses.js'

export interface GraphqlAdmission {
  /** undefined when the request may go on, else the refusal to send. */
  admit(req: IncomingMessage, res: ServerResponse): RestResponse | undefined
  /** GraphQL requests being read or run now. */
  readonly inFlight: number
}

/**
 * Every budget a GraphQL request is held to, in one place, whichever path then answers it: an in-flight
 * slot (in total and per client), a deadline for its body, and, once its answer is being written, the
 * stalled-reader check (a live subscription nobody reads is closed).
 */
export function createGraphqlAdmission(
  config: Pick<Config, 'maxInFlight' | 'clientSharePercent' | 'bodyTimeoutMs'>,
  clientAddressOf: ClientAddressOf,
): GraphqlAdmission {
  const inFlight = createInFlightLimit(
    config.maxInFlight,
    clientShare(config.maxInFlight, config.clientSharePercent),
  )
  const stalled = createStalledResponseCloser()
  return {
    get inFlight() {
      return inFlight.count
    },
    admit(req, res) {
      const refused = inFlight.admit(req, res, clientAddressOf(req))
      if (refused) return refused
      enforceBodyDeadline(req, res, config.bodyTimeoutMs)
      stalled.watch(res)
      return undefined
    },
  }
}
