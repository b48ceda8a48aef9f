// Run by packaging/npm/ci.sh under `npx alipay-cancel-kit serve --exec "node --test exec.test.mjs"`:
// fromEnvironment() picks up the gateway that serve started, over HTTP or HTTPS alike.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertNoViolations, fromEnvironment } from 'alipay-cancel-kit';
import { CancelClient } from './cancel-client.mjs';

test('the gateway serve --exec started, from its environment', async () => {
  const gateway = fromEnvironment();
  assert.equal(gateway.url, process.env.ALIPAY_KIT_URL);
  assert.equal(Boolean(gateway.caCertificatePem), gateway.url.startsWith('https:'));
  const answers = [];
  const client = new CancelClient(gateway, { timeoutMs: 1000, onAnswer: (a) => answers.push(a) });
  const id = gateway.magic('result/CANCEL_WINDOW_EXCEED');
  const outcome = await client.cancel({ paymentRequestId: id });
  client.close();
  answers.forEach((a) => assertNoViolations(a.headers));
  assert.equal(outcome.outcome, 'FAILED');
  assert.equal(outcome.resultCode, 'CANCEL_WINDOW_EXCEED');
  assert.equal((await gateway.requests(id)).length, 1);
  assert.equal(await gateway.close(), null, 'serve --exec owns the gateway: close() leaves it running');
  assert.equal((await gateway.requests(id)).length, 1);
});
