// A cancel client for Alipay's (Antom's) payment-cancel API, in Node (ES modules, standard
// library only), written from docs/adapter-protocol.md and docs/contract.md alone.
//
// This file is what a merchant or an SDK author would ship; `adapter.mjs` only drives it.
// It validates the ids locally, signs the request (RSA256), verifies the answer's signature
// over the raw body bytes, treats every answer it cannot believe as open (UNKNOWN), and calls
// again with the same body after `U` or no usable answer, at most MAX_ATTEMPTS times in all.
//
//   import { CancelClient } from './cancel-client.mjs';
//   const client = new CancelClient({ url, clientId, merchantPrivateKey, alipayPublicKey,
//                                     keyVersion, caCertificatePem }, { timeoutMs: 1500 });
//   const outcome = await client.cancel({ paymentId: '2019...' });
//   // {outcome: 'SUCCESS' | 'FAILED' | 'UNKNOWN' | 'INVALID_REQUEST', resultCode, ..., error}

import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

export const CANCEL_PATH = '/ams/api/v1/payments/cancel';
export const SANDBOX_CANCEL_PATH = '/ams/sandbox/api/v1/payments/cancel';

/** Calls in all for one cancel while the result stays open (the contract allows up to 5). */
export const MAX_ATTEMPTS = 3;
/** Pause before calling again, in ms, times the calls so far: a short linear back-off (the kit's
 * scenarios allow `timeoutMs × 5` for everything; a real SDK may wait longer). */
const RETRY_PAUSE_MS = 10;

/** The request's fields and their limits, in Unicode code points (not UTF-16 units, not bytes). */
const ID_LIMITS = { paymentId: 64, paymentRequestId: 64, merchantAccountId: 32 };

const LONE_SURROGATE = /\p{Surrogate}/u;

/** A refusal of the request before anything is sent: surfaced as INVALID_REQUEST. */
export class InvalidRequestError extends Error {}

/**
 * The result is still open (U, or no answer to believe): UNKNOWN unless a later call settles
 * it. `result` is the answer's `result` object when it had one.
 */
class OpenResult extends Error {
  constructor(message, result) {
    super(message);
    this.result = result;
  }
}

// --- Timestamps ------------------------------------------------------------------------------

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Checks RFC 3339 `date-time` text strictly (`T`/`Z` of either case, a fraction of any length,
 * `Z` or `±hh:mm`, calendar ranges) and returns it with `T` and `Z` in upper case, every
 * fraction digit kept; returns null for anything else.
 *
 * The text is kept rather than a `Date`: a `Date` holds milliseconds only, so
 * `new Date(text).toISOString()` would drop the 4th and later fraction digits, and `Date.parse`
 * accepts much that is not RFC 3339.
 */
export function checkRfc3339(text) {
  if (typeof text !== 'string') return null;
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  // Not Date.UTC: it reads years 0 to 99 as 1900 to 1999.
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return null;
  return text.slice(0, 10) + 'T' + text.slice(11).replace(/z$/, 'Z');
}

// --- The signing scheme ----------------------------------------------------------------------

/** `POST <path>\n<client id>.<time>.<body bytes as sent>`, as bytes: the body stays a Buffer. */
function stringToSign(path, clientId, time, body) {
  return Buffer.concat([Buffer.from(`POST ${path}\n${clientId}.${time}.`, 'utf8'), body]);
}

/** RSASSA-PKCS1-v1_5 over SHA-256 (an RSA key's default padding), base64, URL-encoded. */
export function signRequest(privateKey, path, clientId, time, body) {
  const raw = sign('sha256', stringToSign(path, clientId, time, body), privateKey);
  // encodeURIComponent escapes exactly `+`, `/` and `=` of the base64 alphabet.
  return encodeURIComponent(raw.toString('base64'));
}

/**
 * `algorithm=RSA256, keyVersion=1, signature=...`: pairs in any order, spaces allowed, each
 * split at its first `=` (raw base64 keeps its padding). Throws on a malformed header.
 */
export function parseSignatureHeader(value) {
  const pairs = new Map();
  for (const part of value.split(',')) {
    const at = part.indexOf('=');
    const key = at < 0 ? '' : part.slice(0, at).trim();
    if (!key) throw new Error(`malformed pair ${JSON.stringify(part.trim())}`);
    if (pairs.has(key)) throw new Error(`\`${key}\` appears twice`);
    pairs.set(key, part.slice(at + 1).trim());
  }
  return pairs;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Checks a signature value (URL-encoded, escapes of either case, or raw base64); returns null
 * when it verifies, else why not. */
export function verifyAnswer(publicKey, path, clientId, time, body, value) {
  let text;
  try {
    // decodeURIComponent leaves a bare `+` alone (a base64 digit); a form decoder
    // (URLSearchParams, querystring.unescape of '+') would make it a space.
    text = decodeURIComponent(value);
  } catch (e) {
    return `signature is not percent-encoded text: ${e.message}`;
  }
  // Buffer.from(x, 'base64') skips characters it does not know: check the alphabet first.
  if (!STRICT_BASE64.test(text)) return 'signature is not base64';
  const ok = verify('sha256', stringToSign(path, clientId, time, body), publicKey,
    Buffer.from(text, 'base64'));
  return ok ? null : 'signature does not verify with the vendor public key';
}

/**
 * Parsed keys by their base64 text: parsing (and checking) an RSA private key costs more than
 * signing with it, and a process typically sees the same keys again and again. Bounded.
 */
const keyCache = new Map();
const KEY_CACHE_SIZE = 8;

function cachedKey(text, load) {
  let key = keyCache.get(text);
  if (!key) {
    key = load(Buffer.from(text.replace(/\s+/g, ''), 'base64'));
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value);
    keyCache.set(text, key);
  }
  return key;
}

/** Base64 of PKCS#8 DER (no armour; line breaks tolerated) → a KeyObject. */
export function loadPrivateKey(text) {
  if (typeof text !== 'string') throw new Error('merchantPrivateKey is missing');
  const key = cachedKey(text, (der) => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  if (key.asymmetricKeyType !== 'rsa') throw new Error('merchantPrivateKey is not an RSA key');
  return key;
}

/** Base64 of X.509 SubjectPublicKeyInfo DER (no armour) → a KeyObject. */
export function loadPublicKey(text) {
  if (typeof text !== 'string') throw new Error('alipayPublicKey is missing');
  const key = cachedKey(text, (der) => createPublicKey({ key: der, format: 'der', type: 'spki' }));
  if (key.asymmetricKeyType !== 'rsa') throw new Error('alipayPublicKey is not an RSA key');
  return key;
}

// --- Transport -------------------------------------------------------------------------------

/**
 * One POST on a fresh connection, the whole exchange (connect, send, the whole answer read)
 * within `timeoutMs`. Resolves to {status, headers (names in lower case), body (a Buffer, the
 * bytes as received)}; rejects on a timeout or any transport error.
 */
function post(url, agent, headers, body, timeoutMs) {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(value);
    };
    const req = transport.request(url, { method: 'POST', headers, agent });
    // The timer settles the promise itself: whatever events destroying the request emits (or
    // not, once the answer has begun), the call ends at `timeoutMs`.
    const timer = setTimeout(() => {
      settle(reject, new Error(`no complete answer within ${timeoutMs} ms`));
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => settle(reject, e));
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => settle(reject, e));
      res.on('close', () => settle(reject, new Error('the answer was cut short')));
      res.on('end', () => {
        // `complete` is false when the connection closed before the announced length.
        if (!res.complete) return settle(reject, new Error('the answer was cut short'));
        settle(resolve, { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.end(body);
  });
}

// --- The client ------------------------------------------------------------------------------

/** An outcome object: `result`'s string members copied, then the given fields. */
function outcome(kind, { error, result, ...fields } = {}) {
  const out = { outcome: kind };
  if (result && typeof result === 'object') {
    for (const name of ['resultCode', 'resultStatus', 'resultMessage']) {
      if (typeof result[name] === 'string') out[name] = result[name];
    }
  }
  Object.assign(out, fields);
  if (error) out.error = error;
  return out;
}

/**
 * The request rules, checked before anything is sent: returns the body fields to send (nulls
 * left out: an unset id), or throws InvalidRequestError naming the rule.
 */
export function validateRequest(fields) {
  if (!fields || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new InvalidRequestError('the request is not an object');
  }
  const body = {};
  for (const [name, value] of Object.entries(fields)) {
    if (!Object.hasOwn(ID_LIMITS, name)) throw new InvalidRequestError(`${name}: the cancel call has no such parameter`);
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string') throw new InvalidRequestError(`${name}: expected a string, found ${typeof value}`);
    // A lone surrogate cannot be sent as UTF-8. (With the `u` flag a pair is one code point
    // and never matches; `value.isWellFormed()` says the same from Node 20 on.)
    if (LONE_SURROGATE.test(value)) throw new InvalidRequestError(`${name}: not valid Unicode (lone surrogate)`);
    // `value.length` counts UTF-16 units (an emoji is 2): count code points, as the API does.
    const n = [...value].length;
    if (n < 1 || n > ID_LIMITS[name]) {
      throw new InvalidRequestError(`${name}: expected 1 to ${ID_LIMITS[name]} characters, found ${n}`);
    }
    body[name] = value;
  }
  if (!('paymentId' in body) && !('paymentRequestId' in body)) {
    throw new InvalidRequestError('paymentId or paymentRequestId: at least one must be given');
  }
  return body;
}

export class CancelClient {
  /**
   * @param gateway {url, clientId, merchantPrivateKey, alipayPublicKey, keyVersion?,
   *   caCertificatePem?}: the keys as base64 DER (PKCS#8, SubjectPublicKeyInfo).
   * @param options {timeoutMs, log?, onAnswer?}: the time one exchange may take; a logger for
   *   attempts; a hook that sees every answer ({status, headers, body}) before it is read.
   */
  constructor(gateway, { timeoutMs = 15000, log = () => {}, onAnswer = () => {} } = {}) {
    const base = new URL(gateway.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`unsupported gateway URL ${JSON.stringify(gateway.url)}`);
    }
    this.clientId = gateway.clientId;
    if (typeof this.clientId !== 'string' || !this.clientId) throw new Error('clientId is missing');
    this.keyVersion = gateway.keyVersion || '1';
    this.merchantKey = loadPrivateKey(gateway.merchantPrivateKey);
    this.vendorKey = loadPublicKey(gateway.alipayPublicKey);
    // A SANDBOX_ client id calls, and signs, the sandbox path.
    this.path = this.clientId.startsWith('SANDBOX_') ? SANDBOX_CANCEL_PATH : CANCEL_PATH;
    this.url = new URL(base.pathname.replace(/\/$/, '') + this.path, base);
    // HTTPS trusts the given CA and no other (`ca` replaces Node's bundled roots for this
    // agent) and checks the host name (the default). No keep-alive: one connection per call.
    this.agent = base.protocol === 'https:'
      ? new https.Agent({ ca: gateway.caCertificatePem, keepAlive: false })
      : new http.Agent({ keepAlive: false });
    this.timeoutMs = timeoutMs;
    this.log = log;
    this.onAnswer = onAnswer;
  }

  /** Cancels; resolves to an outcome object, never rejects for anything the gateway does. */
  async cancel(fields) {
    let bodyFields;
    try {
      bodyFields = validateRequest(fields);
    } catch (e) {
      if (e instanceof InvalidRequestError) return outcome('INVALID_REQUEST', { error: `refused locally: ${e.message}` });
      throw e;
    }
    // The same bytes on every attempt: a retry carries the same request. A Buffer, so the
    // signed bytes are the sent bytes (the length too: a string's .length is not its size).
    const body = Buffer.from(JSON.stringify(bodyFields), 'utf8');
    let last = outcome('UNKNOWN', { error: 'no attempt made' });
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      if (attempt > 1) await sleep(RETRY_PAUSE_MS * (attempt - 1));
      try {
        return await this.exchange(body);
      } catch (e) {
        if (!(e instanceof OpenResult)) throw e;
        this.log(`attempt ${attempt}: result open: ${e.message}`);
        last = outcome('UNKNOWN', { error: e.message, result: e.result });
      }
    }
    return last;
  }

  /** One call: the outcome when the answer settles the cancel; throws OpenResult when not. */
  async exchange(body) {
    const requestTime = String(Date.now());
    const signature = signRequest(this.merchantKey, this.path, this.clientId, requestTime, body);
    const headers = {
      'Content-Type': 'application/json; charset=UTF-8',
      'Client-Id': this.clientId,
      'Request-Time': requestTime,
      Signature: `algorithm=RSA256,keyVersion=${this.keyVersion},signature=${signature}`,
      'Content-Length': body.length,
    };
    let answer;
    try {
      answer = await post(this.url, this.agent, headers, body, this.timeoutMs);
    } catch (e) {
      throw new OpenResult(`no answer: ${e.code ? e.code + ': ' : ''}${e.message}`);
    }
    this.onAnswer(answer);
    return this.interpret(answer);
  }

  interpret(answer) {
    if (answer.status !== 200) throw new OpenResult(`HTTP status ${answer.status}: a transport error`);
    let doc;
    try {
      // fatal: invalid UTF-8 is an unusable answer, not U+FFFD in a message.
      doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(answer.body));
    } catch (e) {
      throw new OpenResult(`the body is not JSON: ${e.message}`);
    }
    const result = doc && typeof doc === 'object' && !Array.isArray(doc) ? doc.result : undefined;
    if (!result || typeof result !== 'object' || Array.isArray(result)) {
      throw new OpenResult('the answer has no `result` object');
    }
    const status = result.resultStatus;
    if (!['S', 'F', 'U'].includes(status) || typeof result.resultCode !== 'string') {
      throw new OpenResult(`unusable result: resultStatus ${JSON.stringify(status)}, resultCode ${JSON.stringify(result.resultCode)}`);
    }
    const untrusted = this.untrusted(answer, status);
    if (untrusted) throw new OpenResult(`cannot believe the answer: ${untrusted}`, result);

    if (status === 'F') return outcome('FAILED', { result });
    if (status === 'U') throw new OpenResult('the result is unknown (U)', result);
    const { paymentId, paymentRequestId } = doc;
    const cancelTime = checkRfc3339(doc.cancelTime);
    if (typeof paymentId !== 'string' || typeof paymentRequestId !== 'string' || !cancelTime) {
      // A believed S is definitive (no call again), but it cannot be surfaced as SUCCESS.
      return outcome('UNKNOWN', { result, error: `a success answer without usable ids or cancelTime: ${JSON.stringify(doc).slice(0, 400)}` });
    }
    return outcome('SUCCESS', { result, paymentId, paymentRequestId, cancelTime });
  }

  /** Why the answer cannot be believed, or null. Only F and U may arrive unsigned (the gateway
   * does not sign its refusal of a request it could not authenticate). */
  untrusted(answer, status) {
    const signature = answer.headers['signature'];
    const responseTime = answer.headers['response-time'];
    if (signature === undefined && responseTime === undefined) {
      return status === 'S' ? 'an unsigned success answer' : null;
    }
    if (signature === undefined || responseTime === undefined) {
      return 'only one of `signature` and `response-time` is present';
    }
    const echoed = answer.headers['client-id'];
    if (echoed !== undefined && echoed !== this.clientId) {
      return `the answer is for client id ${JSON.stringify(echoed)}, not ${JSON.stringify(this.clientId)}`;
    }
    let pairs;
    try {
      pairs = parseSignatureHeader(signature);
    } catch (e) {
      return `signature header: ${e.message}`;
    }
    if (pairs.get('algorithm') !== 'RSA256') {
      return `signature header: algorithm ${JSON.stringify(pairs.get('algorithm'))}, expected RSA256`;
    }
    if (!pairs.get('signature')) return 'signature header: empty or missing `signature`';
    return verifyAnswer(this.vendorKey, this.path, this.clientId, responseTime, answer.body,
      pairs.get('signature'));
  }

  /** Closes the agent's idle sockets (none are kept: keepAlive is off). */
  close() {
    this.agent.destroy();
  }
}
