#!/usr/bin/env node
// The `alipay-cancel-kit` command: runs the platform package's binary with the same arguments,
// standard streams inherited, and ends as it ended (its exit code, or the same signal).

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { binaryPath } from '../binary.mjs';

let bin;
try {
  bin = binaryPath();
} catch (e) {
  process.stderr.write(`alipay-cancel-kit: ${e.message}\n`);
  process.exit(2);
}

const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit' });

// A terminal's Ctrl-C reaches the whole foreground process group, the binary included: passing
// SIGINT on would deliver it twice, and the kit takes a second signal as "exit now, no reports".
// SIGTERM and SIGHUP usually come to this process alone (`kill PID`, a CI runner, `timeout`):
// pass them on once.
const forward = (signal) => child.kill(signal);
process.on('SIGINT', () => {});
process.on('SIGTERM', forward);
process.on('SIGHUP', forward);

child.on('error', (e) => {
  process.stderr.write(`alipay-cancel-kit: cannot run ${bin}: ${e.message}\n`);
  process.exit(2);
});
child.on('exit', (code, signal) => {
  if (signal) {
    // End by the same signal, so a shell or CI sees 128 + its number, as it would have.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    // A signal Node ignores (SIGPIPE) leaves us running: exit as a shell would report it.
    setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100);
    return;
  }
  process.exit(code ?? 1);
});
