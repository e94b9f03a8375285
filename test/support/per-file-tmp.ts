/**
 * Each test file gets its own temp directory inside the suite's private one (global-setup.ts), so
 * a file that asserts "nothing of mine is left in os.tmpdir()" is not confused by a file running
 * at the same time in the other worker. The global teardown still checks every one of them.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import path from 'node:path';

const suiteTmp = process.env.POSTGATE_SUITE_TMPDIR;
if (suiteTmp) {
  const own = mkdtempSync(path.join(suiteTmp, 'file-'));
  // the unprivileged server user must be able to traverse into it
  chmodSync(own, 0o755);
  process.env.TMPDIR = own;
}
