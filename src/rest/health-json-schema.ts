/**
 * The schema of the health+json answer (the IETF "Health Check Response Format for HTTP APIs" draft), as the API
 * description (openapi.ts) publishes it and src/rest/health-json.ts writes it.
 */

/** The draft's rule: output says why a status is not pass, and is omitted on pass. */
const outputUnlessPass = {
  anyOf: [
    { properties: { status: { const: 'pass' } }, not: { required: ['output'] } },
    { properties: { status: { enum: ['warn', 'fail'] } }, required: ['output'] },
  ],
}

const checkEntry = {
  type: 'object',
  required: ['componentType', 'status', 'time'],
  ...outputUnlessPass,
  properties: {
    componentType: { const: 'datastore' },
    // Absent on a failed response-time check: nothing was observed.
    observedValue: { type: 'number' },
    observedUnit: { enum: ['ms', 'connections', 's'] },
    status: { enum: ['pass', 'warn', 'fail'] },
    time: { type: 'string', format: 'date-time' },
    output: { type: 'string', description: 'Why the check is not pass; absent when it is.' },
  },
}

const roleEntry = {
  type: 'object',
  required: ['componentType', 'observedValue', 'status', 'time'],
  additionalProperties: false,
  ...outputUnlessPass,
  properties: {
    componentType: { const: 'datastore' },
    observedValue: { enum: ['primary', 'standby'] },
    status: { enum: ['pass', 'warn'] },
    time: { type: 'string', format: 'date-time' },
    output: { type: 'string', description: 'Why the check is not pass; absent when it is.' },
  },
}

const historyEntry = {
  type: 'object',
  required: ['time', 'healthy', 'latencyMs', 'reason'],
  additionalProperties: false,
  properties: {
    time: { type: 'string', format: 'date-time' },
    healthy: { type: 'boolean' },
    latencyMs: { type: 'number' },
    reason: { type: ['string', 'null'] },
  },
}

export const healthJsonSchema = {
  type: 'object',
  required: ['status', 'serviceId', 'checks'],
  ...outputUnlessPass,
  properties: {
    status: { enum: ['pass', 'warn', 'fail'] },
    serviceId: { type: 'string' },
    description: { type: 'string' },
    version: { type: 'string' },
    releaseId: { type: 'string' },
    output: { type: 'string', description: 'Why the status is not pass; absent when it is.' },
    checks: {
      type: 'object',
      required: ['postgresql:responseTime', 'postgresql:connections'],
      properties: {
        'postgresql:responseTime': { type: 'array', items: checkEntry },
        'postgresql:connections': { type: 'array', items: checkEntry },
        'postgresql:role': { type: 'array', items: roleEntry },
        'postgresql:replayLag': { type: 'array', items: checkEntry },
      },
    },
    history: {
      description: 'Only with HEALTH_DETAILS: the monitor\u2019s last checks and transitions, newest first.',
      type: 'object',
      required: ['checks', 'transitions'],
      properties: {
        checks: { type: 'array', items: historyEntry },
        transitions: { type: 'array', items: historyEntry },
      },
    },
  },
} as const
