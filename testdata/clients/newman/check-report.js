// Checks newman's JSON report: every request was answered 200 with a JSON
// object carrying the workshop's message. The collection has no tests of its
// own, so newman's exit code alone proves nothing.
//
// usage: node check-report.js <newman-report.json> <expected request count>
'use strict';

const fs = require('node:fs');

const [reportFile, expected] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
const executions = report.run.executions || [];
const failures = [];
if (executions.length !== Number(expected)) {
  failures.push(`${executions.length} requests ran, ${expected} expected`);
}
for (const e of executions) {
  const name = e.item.name;
  if (!e.response) {
    failures.push(`${name}: no response (${(e.requestError && e.requestError.message) || 'unknown error'})`);
    continue;
  }
  const body = Buffer.from(e.response.stream.data).toString('utf8');
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    failures.push(`${name}: the body is not JSON: ${body.slice(0, 200)}`);
  }
  if (e.response.code !== 200) {
    failures.push(`${name}: HTTP ${e.response.code}: ${body.slice(0, 200)}`);
    continue;
  }
  if (!json || typeof json.message !== 'string') {
    failures.push(`${name}: the JSON has no message`);
    continue;
  }
  console.log(`ok  ${name}: 200 ${JSON.stringify({ tokenScope: json.tokenScope, irisUsername: json.irisUsername, client_id: json.client_id })}`);
}
if (failures.length > 0) {
  for (const f of failures) console.error(`FAIL ${f}`);
  process.exit(1);
}
