#!/usr/bin/env bash
# CI's stages on the container engine: `npm run containers:setup` (engine, base images or their stand-ins;
# quick after the first stage), then `npm run test:SUITE`: `containers` (the image and the compose stack) or
# `swarm` (the stack on a single-node swarm, started when the engine is in none). $2: where vitest's JSON
# report goes, for the run's summary. Exits non-zero when the set-up or any test fails; a failed set-up is
# also written to the report as one failed test, so it is counted, never skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${1:?usage: scripts/ci-engine-suite.sh containers|swarm REPORT.json}
report=${2:?usage: scripts/ci-engine-suite.sh containers|swarm REPORT.json}
case "$suite" in containers | swarm) ;; *) echo "ci-engine-suite: unknown suite $suite" >&2; exit 2 ;; esac

if ! npm run containers:setup; then
  node -e '
    const [report, suite] = process.argv.slice(1)
    const failure = `npm run containers:setup failed: the ${suite} suite could not run`
    require("fs").writeFileSync(report, JSON.stringify({
      success: false, numTotalTests: 1, numPassedTests: 0, numFailedTests: 1, numPendingTests: 0, numTodoTests: 0,
      testResults: [{ name: `scripts/ci-engine-suite.sh ${suite}`, status: "failed", message: failure, assertionResults: [] }],
    }))
  ' "$report" "$suite"
  exit 1
fi
npm run "test:$suite" -- --reporter=default --reporter=json --outputFile.json="$report"
