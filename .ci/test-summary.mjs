// Reads vitest JSON reports, prints the one closing line CI reads ("N passed, N failed, N skipped"), and
// exits non-zero when any test failed, a file errored (a crash outside a test), or nothing ran at all.
import { readFileSync } from 'node:fs'

let passed = 0
let failed = 0
let skipped = 0
let broken = 0
for (const file of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests
  failed += report.numFailedTests
  skipped += report.numPendingTests + report.numTodoTests
  // A test file that fails to load or throws in a hook counts no failed test, but fails its suite.
  broken += report.testResults.filter((result) => result.status === 'failed').length
  if (!report.success) broken += 1
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
if (failed > 0 || broken > 0) {
  console.error(`ci: ${failed} failed tests, ${broken} failed files or runs`)
  process.exit(1)
}
if (passed === 0) {
  console.error('ci: no test ran')
  process.exit(1)
}
