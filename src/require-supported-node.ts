import { unsupportedNodeMessage } from './node-version.js'

// main.ts imports this module first, so it runs before any other module is evaluated: an old Node is
// refused in one line instead of starting and failing later in ways that do not name the cause. This is
// the one module that acts when imported; it and node-version.ts import nothing else, to keep that promise.
const refusal = unsupportedNodeMessage(process.versions.node)
if (refusal) {
  process.stderr.write(`ctera-app: ${refusal}\n`)
  process.exit(1)
}
