/**
 * The Node.js versions this service supports. package.json's `engines` and the README say the same (a unit
 * test holds the three together). Node 23 is left out: odd releases are never long-term supported.
 */
export const SUPPORTED_NODE_RANGE = '^22.15.0 || >=24'
export const SUPPORTED_NODE_IN_WORDS = '22.15 or a later 22.x, or 24 and later'

export function isSupportedNode(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number)
  return major >= 24 || (major === 22 && minor >= 15)
}

/** The one line that refuses an unsupported Node, or undefined on a supported one. */
export function unsupportedNodeMessage(version: string): string | undefined {
  if (isSupportedNode(version)) return undefined
  return (
    `Node.js ${version} is not supported (supported: ${SUPPORTED_NODE_IN_WORDS}); ` +
    "run it through the project's Node: `npm start`, or `node_modules/.bin/node dist/main.js` (npm install puts Node 24 there)"
  )
}
