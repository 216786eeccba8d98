/** OpenAPI 3.1 description of the REST routes, served at GET /openapi.json. Tests check live answers against it. */

const json = (schema: string) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${schema}` } },
})
const healthJson = { 'application/health+json': { schema: { $ref: '#/components/schemas/HealthJson' } } }
const noStore = { 'Cache-Control': { schema: { type: 'string', const: 'no-store' } } }
/** A response of the REST routes: every one is sent with Cache-Control: no-store. */
const answer = (description: string, content: object) => ({ description, headers: noStore, content })

const checkEntry = {
  type: 'object',
  required: ['componentType', 'observedValue', 'observedUnit', 'status', 'time'],
  properties: {
    componentType: { const: 'datastore' },
    observedValue: { type: 'number' },
    observedUnit: { type: 'string' },
    status: { enum: ['pass', 'warn', 'fail'] },
    time: { type: 'string', format: 'date-time' },
    output: { type: 'string' },
  },
}

const roleEntry = {
  type: 'object',
  required: ['componentType', 'observedValue', 'status', 'time'],
  additionalProperties: false,
  properties: {
    componentType: { const: 'datastore' },
    observedValue: { enum: ['primary', 'standby'] },
    status: { enum: ['pass', 'warn'] },
    time: { type: 'string', format: 'date-time' },
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

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'ctera-app',
    version: '1.0.0',
    description:
      'Whether the service can reach its PostgreSQL database, and what that database holds. ' +
      'The GraphQL API at /graphql is described by its own schema (schema.graphql).',
  },
  paths: {
    '/health': {
      get: {
        summary: 'Live database check, in the original service\u2019s words',
        description:
          'Checks the database now. Sends application/health+json instead when the Accept header asks for it.',
        responses: {
          '200': answer('Healthy (or pass/warn in health+json)', { ...json('SeedHealth'), ...healthJson }),
          '503': answer('Unhealthy (fail in health+json)', { ...json('SeedHealth'), ...healthJson }),
        },
      },
    },
    '/healthz': {
      get: {
        summary: 'Live database check in the IETF health+json format',
        responses: {
          '200': answer('pass or warn', healthJson),
          '503': answer('fail', healthJson),
        },
      },
    },
    '/livez': {
      get: {
        summary: 'Liveness: the process answers. Never touches the database.',
        responses: { '200': answer('Alive', json('Liveness')) },
      },
    },
    '/readyz': {
      get: {
        summary: 'Readiness, from the background monitor\u2019s latest check; answers at once',
        responses: {
          '200': answer('Ready', json('Readiness')),
          '503': answer('Not ready', json('Readiness')),
        },
      },
    },
    '/number_of_tables': {
      get: {
        summary: 'The number of tables the service user can see, as a string',
        responses: {
          '200': answer('The count', json('NumberOfTables')),
          '503': answer('The database is unavailable', json('Error')),
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        responses: {
          '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This document',
        responses: {
          '200': {
            description: 'OpenAPI 3.1',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
  },
  components: {
    schemas: {
      SeedHealth: {
        type: 'object',
        required: ['container', 'status'],
        additionalProperties: false,
        properties: { container: { type: 'string' }, status: { enum: ['Healthy!', 'Unhealthy'] } },
      },
      NumberOfTables: {
        type: 'object',
        required: ['number_of_tables'],
        additionalProperties: false,
        properties: { number_of_tables: { type: 'string', pattern: '^[0-9]+$' } },
      },
      Error: {
        type: 'object',
        required: ['error', 'code'],
        properties: { error: { type: 'string' }, code: { type: 'string' }, reason: { type: 'string' } },
      },
      Liveness: {
        type: 'object',
        required: ['status'],
        properties: { status: { const: 'alive' }, uptimeSeconds: { type: 'number' } },
      },
      Readiness: {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: {
          status: { enum: ['ready', 'not ready'] },
          reason: {
            enum: [
              'starting',
              'shutting down',
              'database unreachable',
              'not primary',
              'replica lagging',
              'stale',
            ],
          },
        },
      },
      HealthJson: {
        type: 'object',
        required: ['status', 'serviceId', 'checks'],
        properties: {
          status: { enum: ['pass', 'warn', 'fail'] },
          serviceId: { type: 'string' },
          description: { type: 'string' },
          version: { type: 'string' },
          releaseId: { type: 'string' },
          output: { type: 'string' },
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
            description:
              'Only with HEALTH_DETAILS: the monitor\u2019s last checks and transitions, newest first.',
            type: 'object',
            required: ['checks', 'transitions'],
            properties: {
              checks: { type: 'array', items: historyEntry },
              transitions: { type: 'array', items: historyEntry },
            },
          },
        },
      },
    },
  },
} as const
