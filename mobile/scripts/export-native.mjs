// Bundles the app for Android and iOS (Hermes bytecode included) into a throw-away directory,
// so an import that only resolves on the web, or a native-only module used wrongly, fails here
// instead of on a device. Not minified: minifying checks nothing and costs time. Nothing is
// kept; the store builds come from EAS (eas.json).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { mobileRoot } from './backend-command.mjs';

const outputDir = mkdtempSync(path.join(os.tmpdir(), 'foryou-native-export-'));
const started = Date.now();
try {
  const result = spawnSync(
    'npx',
    ['expo', 'export', '--platform', 'android', '--platform', 'ios', '--output-dir', outputDir, '--no-minify'],
    { cwd: mobileRoot, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '');
    throw new Error(`native export failed (exit ${result.status ?? result.signal})`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`Android and iOS bundles built in ${seconds} s\n`);
} finally {
  rmSync(outputDir, { recursive: true, force: true });
}
