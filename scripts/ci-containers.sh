#!/usr/bin/env bash
# CI's container stage: `npm run containers:setup` (engine, base images or their stand-ins), then the
# container suite. $1: where vitest's JSON report goes, for the run's summary. Exits non-zero when the
# set-up or any test fails; a failed set-up is also written to the report as one failed test, so it is
# counted, never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
report=${1:?usage: scripts/ci-containers.sh REPORT.json}

if ! npm run containers:setup; then
  node -e '
    const failure = "npm run containers:setup failed: the container suite could not run"
    require("fs").writeFileSync(process.argv[1], JSON.stringify({
      success: false, numTotalTests: 1, numPassedTests: 0, numFailedTests: 1, numPendingTests: 0, numTodoTests: 0,
      testResults: [{ name: "scripts/ci-containers.sh", status: "failed", message: failure, assertionResults: [] }],
    }))
  ' "$report"
  exit 1
fi
npm run test:containers -- --reporter=default --reporter=json --outputFile.json="$report"
