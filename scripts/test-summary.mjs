// Prints one closing line over every test runner's JSON report: "Tests: N passed, N failed, N skipped".
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;

for (const vitest of ['reports/vitest.json', 'reports/fault.json']) {
  if (!existsSync(vitest)) continue;
  const report = JSON.parse(readFileSync(vitest, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
const e2e = 'reports/e2e.json';
if (existsSync(e2e)) {
  const { stats } = JSON.parse(readFileSync(e2e, 'utf8'));
  passed += (stats?.expected ?? 0) + (stats?.flaky ?? 0);
  failed += stats?.unexpected ?? 0;
  skipped += stats?.skipped ?? 0;
}
// The SDKs' runners (scripts/test-sdks.sh): pytest's JUnit XML, `go test -json` events, minitest's closing line.
const pytest = 'reports/sdk-python.xml';
if (existsSync(pytest)) {
  for (const [, attributes] of readFileSync(pytest, 'utf8').matchAll(/<testsuite\b([^>]*)>/g)) {
    const count = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(attributes)?.[1] ?? 0);
    const notPassed = count('failures') + count('errors') + count('skipped');
    passed += count('tests') - notPassed;
    failed += count('failures') + count('errors');
    skipped += count('skipped');
  }
}
const goTests = 'reports/sdk-go.json';
if (existsSync(goTests)) {
  for (const line of readFileSync(goTests, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line);
    if (!event.Test) continue;
    if (event.Action === 'pass') passed += 1;
    else if (event.Action === 'fail') failed += 1;
    else if (event.Action === 'skip') skipped += 1;
  }
}
const minitest = 'reports/sdk-ruby.txt';
if (existsSync(minitest)) {
  const summary = /(\d+) runs, \d+ assertions, (\d+) failures, (\d+) errors, (\d+) skips/.exec(
    readFileSync(minitest, 'utf8'),
  );
  if (summary) {
    const [runs, failures, errors, skips] = summary.slice(1).map(Number);
    passed += runs - failures - errors - skips;
    failed += failures + errors;
    skipped += skips;
  }
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
