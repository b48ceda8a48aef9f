// The Node example client (../cancel-client.mjs) against `alipay-cancel-kit serve`, in node:test:
// every row of the result-code table, answers that must not be believed, a timeout, a sequence,
// an armed answer and the journal. Each test first checks that the gateway found nothing wrong
// with the requests (`x-kit-violations` absent), then asserts what the client surfaced.
//
//   alipay-cancel-kit serve --port 0 --exec "node --test conformance/adapters/node/serve-test/"
//   alipay-cancel-kit serve --port 0 --tls --exec "node --test conformance/adapters/node/serve-test/"
//
// The gateway comes from what `serve --exec` exports (ALIPAY_KIT_URL, ALIPAY_KIT_CLIENT_ID, the
// keys, ALIPAY_KIT_CA_CERTIFICATE_PEM with --tls), read by the npm package's fromEnvironment().
// The kit itself (for `scenarios`) is ALIPAY_KIT_BIN, which `serve --exec` exports, else
// ALIPAY_CANCEL_KIT, else `alipay-cancel-kit` on the PATH.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { assertNoViolations, fromEnvironment } from '../../../../packaging/npm/alipay-cancel-kit/index.mjs';
import { CancelClient, MAX_ATTEMPTS } from '../cancel-client.mjs';

const gateway = fromEnvironment();
after(() => gateway.close());

const KIT = process.env.ALIPAY_KIT_BIN || process.env.ALIPAY_CANCEL_KIT || 'alipay-cancel-kit';

/** The result-code table, from the kit's own catalogue: one `result/<code>` scenario per row. */
const ROWS = JSON.parse(execFileSync(KIT, ['scenarios', '--json', '--scenario', 'result/*'], { encoding: 'utf8' }))
  .map((scenario) => ({ scenario: scenario.id, ...scenario.answers[0].body.result }));

/** How long the client allows one exchange: well under the 2.5 s `kit:fault/timeout` waits. */
const TIMEOUT_MS = 800;

/**
 * Cancels through the example client and resolves to {outcome, answers}, after checking that no
 * answer carried `x-kit-violations` (the request checks of docs/contract.md all held).
 */
async function cancel(fields) {
  const answers = [];
  const client = new CancelClient(gateway, { timeoutMs: TIMEOUT_MS, onAnswer: (a) => answers.push(a) });
  try {
    const outcome = await client.cancel(fields);
    for (const answer of answers) assertNoViolations(answer.headers);
    return { outcome, answers };
  } finally {
    client.close();
  }
}

/** The journal's exchanges naming `id`, after checking that none failed a request check. */
async function journal(id) {
  const exchanges = await gateway.requests(id);
  for (const exchange of exchanges) assert.deepEqual(exchange.checks, [], `request ${exchange.seq} failed checks`);
  return exchanges;
}

describe('every row of the result-code table', () => {
  assert.equal(ROWS.length, 17, 'the vendor table has 17 rows');
  for (const row of ROWS) {
    test(`${row.resultCode} (${row.resultStatus})`, async () => {
      const sent = gateway.magic(row.scenario);
      const { outcome, answers } = await cancel({ paymentId: sent });
      if (row.resultStatus === 'S') {
        assert.equal(outcome.outcome, 'SUCCESS');
        assert.equal(outcome.paymentId, sent);
        assert.ok(outcome.cancelTime);
        assert.equal(answers.length, 1);
      } else if (row.resultStatus === 'F') {
        assert.equal(outcome.outcome, 'FAILED');
        assert.equal(outcome.resultCode, row.resultCode);
        assert.equal(answers.length, 1, 'an F is never retried');
      } else {
        assert.equal(outcome.outcome, 'UNKNOWN');
        assert.equal(outcome.resultCode, row.resultCode);
        assert.equal(outcome.resultStatus, 'U');
        assert.equal(answers.length, MAX_ATTEMPTS, 'a U is called again, same ids');
      }
    });
  }
});

test('an ordinary id is cancelled once and remembered', async () => {
  const sent = `order-${randomUUID()}`;
  const first = await cancel({ paymentRequestId: sent });
  assert.equal(first.outcome.outcome, 'SUCCESS');
  assert.equal(first.outcome.paymentRequestId, sent);
  const again = await cancel({ paymentRequestId: sent });
  assert.equal(again.outcome.outcome, 'SUCCESS');
  assert.equal(again.outcome.cancelTime, first.outcome.cancelTime);
});

test('an unsigned success is not believed', async () => {
  const { outcome, answers } = await cancel({ paymentId: gateway.magic('signature/missing-on-success') });
  assert.equal(outcome.outcome, 'UNKNOWN');
  assert.match(outcome.error, /unsigned success/);
  assert.ok(answers.every((a) => a.headers.signature === undefined));
});

test('a tampered signature is not believed', async () => {
  const { outcome } = await cancel({ paymentId: gateway.magic('signature/tampered-success') });
  assert.equal(outcome.outcome, 'UNKNOWN');
  assert.match(outcome.error, /does not verify/);
});

test('no answer in time is UNKNOWN, not a result', async () => {
  const sent = gateway.magic('fault/timeout');
  const { outcome, answers } = await cancel({ paymentId: sent });
  assert.equal(answers.length, 0);
  assert.equal((await journal(sent)).length, MAX_ATTEMPTS);
  assert.equal(outcome.outcome, 'UNKNOWN');
  assert.match(outcome.error, new RegExp(`within ${TIMEOUT_MS} ms`));
});

test('U, then success: settled by calling again with the same body', async () => {
  const sent = gateway.magic('retry/u-then-success');
  const { outcome } = await cancel({ paymentId: sent });
  const exchanges = await journal(sent);
  assert.equal(exchanges.length, 2);
  assert.equal(exchanges[0].body, exchanges[1].body);
  assert.equal(outcome.outcome, 'SUCCESS');
  assert.equal(outcome.paymentId, sent);
});

test('an armed answer is served once, to the id it was armed for', async () => {
  const sent = `order-${randomUUID()}`;
  await gateway.arm('result/PROCESS_FAIL', 1, { id: sent });
  const armed = await cancel({ paymentId: sent });
  assert.equal(armed.outcome.outcome, 'FAILED');
  assert.equal(armed.outcome.resultCode, 'PROCESS_FAIL');
  const next = await cancel({ paymentId: sent });
  assert.equal(next.outcome.outcome, 'SUCCESS', 'the armed answer was used up');
});

test('the journal holds each exchange: the request as sent, its checks, the answer', async () => {
  const sent = `order-${randomUUID()}`;
  await cancel({ paymentId: sent, merchantAccountId: 'store-7' });
  const [exchange, ...more] = await journal(sent);
  assert.equal(more.length, 0);
  assert.equal(exchange.method, 'POST');
  assert.equal(exchange.path, '/ams/api/v1/payments/cancel');
  assert.deepEqual(JSON.parse(exchange.body), { paymentId: sent, merchantAccountId: 'store-7' });
  assert.ok(exchange.passed.some(([id, level]) => id.endsWith('.signature') && level === 'MUST'));
  assert.equal(exchange.answer.status, 200);
  assert.equal(exchange.source.kind, 'ordinary');
});
