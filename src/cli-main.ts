/** The CLI's entry point (bundled to dist/cli/index.js; bin/metrics-flow-check.js runs it). */
import { cli } from './cli.js';

process.exitCode = await cli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY),
  env: process.env,
});
