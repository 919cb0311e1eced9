// Jest reporter: when GPL_TEST_SUMMARY_DIR is set, records this project's pass/fail counts
// there, so .ci/run can print one closing "N passed, N failed" line for the whole workspace.
const fs = require('fs');
const path = require('path');

class SummaryReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
  }

  onRunComplete(_contexts, results) {
    const dir = process.env.GPL_TEST_SUMMARY_DIR;
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    const name = `${process.pid}-${Date.now()}.json`;
    const summary = {
      rootDir: this.globalConfig.rootDir,
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    fs.writeFileSync(path.join(dir, name), JSON.stringify(summary));
  }
}

module.exports = SummaryReporter;
