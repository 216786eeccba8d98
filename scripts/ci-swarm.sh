#!/usr/bin/env bash
# CI's swarm stage: `npm run containers:setup` (engine and base images; quick when the container stage has
# run), then `npm run test:swarm`, which starts a single-node swarm itself when the engine is in none.
# $1: where vitest's JSON report goes, for the run's summary. Exits non-zero when the set-up or any test
# fails; a failed set-up is also written to the report as one failed test, so it is counted, never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
report=${1:?usage: scripts/ci-swarm.sh REPORT.json}

if ! npm run containers:setup; then
  node -e '
    const failure = "npm run containers:setup failed: the swarm suite could not run"
    require("fs").writeFileSync(process.argv[1], JSON.stringify({
      success: false, numTotalTests: 1, numPassedTests: 0, numFailedTests: 1, numPendingTests: 0, numTodoTests: 0,
      testResults: [{ name: "scripts/ci-swarm.sh", status: "failed", message: failure, assertionResults: [] }],
    }))
  ' "$report"
  exit 1
fi
npm run test:swarm -- --reporter=default --reporter=json --outputFile.json="$report"
