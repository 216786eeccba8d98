import { builder } from './builder.js'
import './database-insight.js'
import './date-time.js'
import './health.js'
import './health-history.js'
import './tables.js'

export const schema = builder.toSchema()
