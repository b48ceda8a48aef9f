// Unit tests of the example client's parts, against the golden vectors of
// docs/adapter-protocol.md (the committed TEST-ONLY keys) and the rules the docs state.
//
//   node --test conformance/adapters/node/test/

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  checkRfc3339, loadPrivateKey, loadPublicKey, parseSignatureHeader, signRequest, validateRequest,
  verifyAnswer, CANCEL_PATH, InvalidRequestError,
} from '../cancel-client.mjs';

const key = (name) => readFileSync(new URL(`../../../keys/TEST-ONLY-${name}`, import.meta.url), 'utf8');

test('the request golden vector of docs/adapter-protocol.md', () => {
  const body = Buffer.from('{"paymentId":"2019061218401080010018882020035XXXX"}');
  const signature = signRequest(loadPrivateKey(key('merchant-private.pkcs8.b64')), CANCEL_PATH,
    'TEST_5YBZ1', '1685599933871', body);
  assert.equal(signature,
    'eNaC6gPFZYAXNLYGgHJvyxwqUIoG5qr73fiHdDq3GjK5QGy8%2BtH1y3fAhI8GNgAM2teopoME%2FhvTmujJsUE1TExe%2FjoPQgp80wrRov7X9ZRzVKZWsZYoCLxBmG8kpBxpAdzPeoPZ54GT4RZxpTijDON3FO7HvTEV50T27XDm4GxO5lrkwXsvVBICryQypibXo9QqZeSgAmMEpEfd3qETWlHzLzNCXb%2FMrcp%2FwazB5TbiUZBWPZzNbtvsyQndMdE8ZXXHP1stqxwb7FHLdXHegr1xG5KDE7qoBAAdwJiujVerA1MvlrKYkAXcSLN9GOGy7uxi3snAo0kXioxyLn4cUw%3D%3D');
});

test('the answer golden vector verifies, raw or escaped in either case, and nothing else does', () => {
  const vendor = loadPublicKey(key('vendor-public.spki.b64'));
  const body = Buffer.from('{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}');
  const raw = 'qxoEemBDFRrNq52zWSa1x+SBbGMz9rtu4KQXyQfrkGLk9iS/bzu9RRe98EYTgI9XbZN0VOdt3mze6bLGkwXH9rR34/0ysuMceMOjTJtW4R8e6H3peOurS+BekgxVxN+gQPwWkLNRq0suSyzXLbyNLcG7dYGONVSS6OGX5gARiSonSk0y9rAspDNnvxcWpZMRAxaI2RwBcUBFkTXnQ83sTxFtWHEj0qcS0waOwapeJv4FUud31jY6musEvP2TQA4dUw81x4+T5J9D+K6ER8dbRwrxq5hrz8zzbZYQPoDEeFJ9hbLGY8+GTTt8+F0gfZ2RRAwzgA5ZV2Q4QiOAMU8ycA==';
  const time = '2019-06-12T19:07:11+08:00';
  const check = (value, b = body, t = time) => verifyAnswer(vendor, CANCEL_PATH, 'TEST_5YBZ1', t, b, value);
  assert.equal(check(raw), null);
  assert.equal(check(encodeURIComponent(raw)), null);
  assert.equal(check(encodeURIComponent(raw).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())), null);
  assert.match(check(raw.replace(/\+/g, ' ')), /not base64/, 'a + read as a space is not base64');
  assert.match(check(raw.replace('qxo', 'qx*o')), /not base64/, 'strict: no skipped characters');
  assert.match(check(raw, Buffer.from(body.toString() + ' ')), /does not verify/);
  assert.match(check(raw, body, '2019-06-12T11:07:11Z'), /does not verify/);
});

test('the signature header is parsed tolerantly', () => {
  const pairs = parseSignatureHeader(' keyVersion=1, signature=ab==,algorithm=RSA256 ,extra=x');
  assert.equal(pairs.get('algorithm'), 'RSA256');
  assert.equal(pairs.get('signature'), 'ab==');
  assert.throws(() => parseSignatureHeader('algorithm=RSA256,signature'), /malformed pair/);
  assert.throws(() => parseSignatureHeader('signature=a,signature=b'), /appears twice/);
});

test('ids are validated locally, in code points', () => {
  assert.deepEqual(validateRequest({ paymentId: 'a', paymentRequestId: null }), { paymentId: 'a' });
  assert.deepEqual(validateRequest({ paymentRequestId: '付'.repeat(64) }), { paymentRequestId: '付'.repeat(64) });
  assert.deepEqual(validateRequest({ paymentId: '😀'.repeat(64) }), { paymentId: '😀'.repeat(64) });
  const refused = [
    [{}, /at least one/],
    [{ merchantAccountId: 'm' }, /at least one/],
    [{ paymentId: '' }, /paymentId: expected 1 to 64 characters, found 0/],
    [{ paymentId: 'x'.repeat(65) }, /found 65/],
    [{ paymentId: 'a', merchantAccountId: 'm'.repeat(33) }, /merchantAccountId: expected 1 to 32/],
    [{ paymentId: 2019 }, /expected a string, found number/],
    [{ paymentId: '\ud800' }, /lone surrogate/],
    [{ paymentId: 'a', amount: '1' }, /amount: the cancel call has no such parameter/],
    [{ paymentId: 'a', toString: 'x' }, /toString: the cancel call has no such parameter/],
  ];
  for (const [fields, why] of refused) {
    assert.throws(() => validateRequest(fields), (e) => e instanceof InvalidRequestError && why.test(e.message));
  }
});

test('cancelTime is RFC 3339, strictly, every digit kept', () => {
  for (const [text, kept] of [
    ['2019-06-12T19:07:11+08:00', '2019-06-12T19:07:11+08:00'],
    ['2019-06-12t19:07:11.1234567z', '2019-06-12T19:07:11.1234567Z'],
    ['2019-06-12T16:52:11-03:30', '2019-06-12T16:52:11-03:30'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00Z'],
  ]) assert.equal(checkRfc3339(text), kept, text);
  for (const text of ['2019-06-12T19:07:11+0800', '2019-06-12 19:07:11Z', '2019-06-12T19:07:11',
    '2023-02-29T00:00:00Z', '2100-02-29T00:00:00Z', '2019-06-12T24:00:00Z', '2019-06-12T19:07:11.Z',
    '2019-06-12T19:07:11+24:00', '２０１９-06-12T19:07:11Z', 1560366431000, null]) {
    assert.equal(checkRfc3339(text), null, String(text));
  }
});
