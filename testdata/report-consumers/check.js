// Renders the suite's reports with real consumers and writes what they
// understood to OUT_DIR/summary.json, for steps/report's consumers test:
//   node check.js REPORT_DIR OUT_DIR
// cucumber-html-reporter reads cucumber.json; junit-report-merger reads
// junit.xml (and recomputes the totals from the test cases it parses).
'use strict';
const fs = require('fs');
const path = require('path');
const reporter = require('cucumber-html-reporter');
const { mergeFiles } = require('junit-report-merger');

async function main() {
  const [reportDir, outDir] = process.argv.slice(2);
  if (!reportDir || !outDir) {
    console.error('usage: node check.js REPORT_DIR OUT_DIR');
    process.exit(2);
  }
  fs.mkdirSync(outDir, { recursive: true });

  const cukeHTML = path.join(outDir, 'cucumber.html');
  reporter.generate({
    theme: 'bootstrap',
    jsonFile: path.join(reportDir, 'cucumber.json'),
    output: cukeHTML,
    reportSuiteAsScenarios: true,
    launchReport: false,
    name: 'oauthtrio',
  });
  const html = fs.readFileSync(cukeHTML, 'utf8');
  const m = html.match(/"title": "Scenarios",\s*"failed": (\d+),\s*"passed": (\d+),\s*"rerun": (\d+),\s*"notdefined": (\d+),\s*"pending": (\d+),\s*"skipped": (\d+)/);
  if (!m) throw new Error('cucumber-html-reporter: no scenario counts in its page');
  const cucumber = {
    failed: +m[1], passed: +m[2], skipped: +m[6],
    screenshots: (html.match(/data:image\/png;base64,/g) || []).length,
  };

  const junitOut = path.join(outDir, 'junit.xml');
  await mergeFiles(junitOut, [path.join(reportDir, 'junit.xml')]);
  const merged = fs.readFileSync(junitOut, 'utf8');
  const root = merged.match(/<testsuites\b[^>]*>/);
  if (!root) throw new Error('junit-report-merger: no <testsuites> in its output');
  const attr = (name) => { const a = root[0].match(new RegExp(name + '="(\\d+)"')); return a ? +a[1] : -1; };
  const junit = { tests: attr('tests'), failures: attr('failures'), skipped: attr('skipped') };

  fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify({ cucumber, junit }, null, 2));
}

main().catch((err) => { console.error(err); process.exit(1); });
