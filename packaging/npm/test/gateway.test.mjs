// The npm packages from their tarballs alone: startGateway() over HTTP and HTTPS, driven by a
// small Node client (cancel-client.mjs, copied beside this file by packaging/npm/ci.sh).
// Runs in a scratch project where `alipay-cancel-kit` is installed, never from a checkout.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertNoViolations, fromEnvironment, startGateway, violations } from 'alipay-cancel-kit';
import { CancelClient } from './cancel-client.mjs';

for (const tls of [false, true]) {
  describe(tls ? 'HTTPS' : 'HTTP', () => {
    let gateway;
    before(async () => { gateway = await startGateway({ tls }); });
    after(async () => {
      const exit = await gateway.close();
      // The deliberately unsigned request below broke MUST checks: serve's totals cover every
      // request of the session (clear() keeps them), so it exits 1, as a CI gate should.
      assert.deepEqual(exit, { code: 1, signal: null });
    });

    async function cancel(fields, timeoutMs = 1000) {
      const answers = [];
      const client = new CancelClient(gateway, { timeoutMs, onAnswer: (a) => answers.push(a) });
      try {
        const outcome = await client.cancel(fields);
        for (const a of answers) assertNoViolations(a.headers);
        return { outcome, answers };
      } finally {
        client.close();
      }
    }

    test('the ready line\'s facts', () => {
      assert.match(gateway.url, tls ? /^https:\/\/localhost:\d+$/ : /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(tls, Boolean(gateway.caCertificatePem?.startsWith('-----BEGIN CERTIFICATE-----')));
      for (const key of ['merchantPrivateKey', 'merchantPublicKey', 'alipayPublicKey']) {
        assert.match(gateway[key], /^MII[A-Za-z0-9+/=]+$/, key);
      }
      assert.ok(gateway.clientId && gateway.keyVersion);
    });

    test('magic ids: S, F and U', async () => {
      const ok = gateway.magic('result/SUCCESS');
      assert.match(ok, /^kit:result\/SUCCESS:/);
      assert.notEqual(ok, gateway.magic('result/SUCCESS'));
      const s = await cancel({ paymentId: ok });
      assert.equal(s.outcome.outcome, 'SUCCESS');
      assert.equal(s.outcome.paymentId, ok);
      const f = await cancel({ paymentId: gateway.magic('result/ORDER_NOT_EXIST') });
      assert.equal(f.outcome.outcome, 'FAILED');
      assert.equal(f.outcome.resultCode, 'ORDER_NOT_EXIST');
      const u = await cancel({ paymentId: gateway.magic('result/UNKNOWN_EXCEPTION') });
      assert.equal(u.outcome.outcome, 'UNKNOWN');
      assert.equal(u.outcome.resultStatus, 'U');
    });

    test('an unsigned success is not believed', async () => {
      const { outcome } = await cancel({ paymentId: gateway.magic('signature/missing-on-success') });
      assert.equal(outcome.outcome, 'UNKNOWN');
    });

    test('arm, requests and clear', async () => {
      const id = `order-${randomUUID()}`;
      const armed = await gateway.arm('result/PROCESS_FAIL', 2, { id });
      assert.equal(armed.waiting, 2);
      for (let i = 0; i < 2; i++) {
        const { outcome } = await cancel({ paymentRequestId: id });
        assert.equal(outcome.resultCode, 'PROCESS_FAIL');
      }
      const journal = await gateway.requests(id);
      assert.equal(journal.length, 2);
      assert.deepEqual(journal.map((e) => e.source.kind), ['armed', 'armed']);
      assert.deepEqual(journal[0].checks, []);
      await gateway.clear();
      assert.deepEqual(await gateway.requests(), []);
    });

    test('x-kit-violations names what a request broke', async () => {
      // The helper's own agent, a request signed by nobody: the gateway refuses it and says why.
      const { request } = await import(tls ? 'node:https' : 'node:http');
      const headers = await new Promise((resolve, reject) => {
        const req = request(new URL('/ams/api/v1/payments/cancel', gateway.url), {
          method: 'POST', agent: gateway.agent, headers: { 'content-type': 'application/json' },
        }, (res) => { res.resume(); res.on('end', () => resolve(res.headers)); });
        req.on('error', reject);
        req.end('{"paymentId":"x"}');
      });
      assert.ok(violations(headers).some((v) => v.level === 'MUST'));
      assert.throws(() => assertNoViolations(headers), /MUST request\[\d+\]\.client-id/);
      await gateway.clear();
    });

    test('fromEnvironment() reads what serve --exec exports', () => {
      const env = {
        ALIPAY_KIT_URL: gateway.url,
        ALIPAY_KIT_CLIENT_ID: gateway.clientId,
        ALIPAY_KIT_MERCHANT_PRIVATE_KEY: gateway.merchantPrivateKey,
        ALIPAY_KIT_MERCHANT_PUBLIC_KEY: gateway.merchantPublicKey,
        ALIPAY_KIT_ALIPAY_PUBLIC_KEY: gateway.alipayPublicKey,
        ALIPAY_KIT_KEY_VERSION: gateway.keyVersion,
        ...(tls ? { ALIPAY_KIT_CA_CERTIFICATE_PEM: gateway.caCertificatePem } : {}),
      };
      const same = fromEnvironment(env);
      for (const k of ['url', 'clientId', 'merchantPrivateKey', 'alipayPublicKey', 'keyVersion', 'caCertificatePem']) {
        assert.equal(same[k], gateway[k], k);
      }
      assert.throws(() => fromEnvironment({}), /ALIPAY_KIT_URL is not set/);
    });
  });
}

test('serve exiting before it is ready is an error quoting its standard error', async () => {
  await assert.rejects(startGateway({ args: ['--keys', '/nonexistent-dir'] }), /before it was ready; its standard error:\n.*nonexistent-dir/s);
});
