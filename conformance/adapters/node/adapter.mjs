// The adapter for alipay-cancel-kit (docs/adapter-protocol.md, v1) around `cancel-client.mjs`.
//
// It reads instruction lines on standard input and answers each with exactly one outcome line
// on standard output, in order, so the same loop serves exec mode (one line, then end of
// input) and persistent mode (many lines). Logs go to standard error only.
//
//   node adapter.mjs                  # serve instructions from standard input
//   node adapter.mjs --capabilities   # print the capabilities as a JSON array
//
// To drive your own SDK instead, replace the two lines marked "YOUR SDK" in `handle` (see
// README.md): build your client from `instruction.gateway`, call its cancel with
// `instruction.request`, and map what it returns or throws to an outcome.

import { createInterface } from 'node:readline';
import { CancelClient } from './cancel-client.mjs';

const PROTOCOL = 'alipay-cancel-kit/1';

// HTTPS with the instruction's CA (an https.Agent's `ca`) and host name checks; the client
// sends any of the three ids, so no id capability is declared (none means all three).
const CAPABILITIES = ['tls'];

function log(line) {
  process.stderr.write(line + '\n');
}

/** One instruction line → one outcome object. Never throws: a bug of ours is still an answer. */
async function handle(line) {
  let instruction;
  try {
    instruction = JSON.parse(line);
  } catch (e) {
    return { outcome: 'UNKNOWN', error: `unreadable instruction: ${e.message}` };
  }
  if (!instruction || typeof instruction !== 'object' || instruction.protocol !== PROTOCOL) {
    return { outcome: 'UNKNOWN', error: `not an ${PROTOCOL} instruction` };
  }
  const tag = `[${instruction.scenario ?? '?'}]`;
  let client;
  try {
    // YOUR SDK: build your client from the gateway (url, clientId, keys, keyVersion, CA).
    client = new CancelClient(instruction.gateway, {
      timeoutMs: instruction.timeoutMs,
      log: (message) => log(`${tag} ${message}`),
    });
  } catch (e) {
    return { outcome: 'UNKNOWN', error: `unusable instruction: ${e.message}` };
  }
  try {
    // YOUR SDK: cancel with exactly the instruction's fields; map the result to an outcome.
    const result = await client.cancel(instruction.request);
    log(`${tag} -> ${result.outcome} ${result.resultCode ?? ''} ${result.error ?? ''}`.trimEnd());
    return result;
  } catch (e) {
    log(`${tag} unexpected error: ${e.stack ?? e}`);
    return { outcome: 'UNKNOWN', error: `adapter error: ${e.message ?? e}` };
  } finally {
    client.close();
  }
}

/** JSON with every non-ASCII character escaped: one line whatever the reader's encoding. */
function asciiJson(value) {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

if (process.argv.slice(2).includes('--capabilities')) {
  process.stdout.write(JSON.stringify(CAPABILITIES) + '\n');
} else {
  // One instruction at a time: in persistent mode the outcomes must come back in order.
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    // Writes to a pipe are synchronous on Linux, so nothing waits in a buffer.
    process.stdout.write(asciiJson(await handle(line)) + '\n');
  }
}
