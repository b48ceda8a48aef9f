// The Node helper of alipay-cancel-kit: a standing, signing mock gateway (`serve`) for a
// node:test (or any) suite, started on a free port or taken from `serve --exec`'s environment.
//
//   import { startGateway } from 'alipay-cancel-kit';
//   const gateway = await startGateway({ tls: true });
//   // ... point your client at gateway.url with gateway.clientId and the keys ...
//   await gateway.close();
//
// docs/serve.md of the kit describes what the gateway answers and its /__kit/ endpoints.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { binaryPath } from './binary.mjs';

export { binaryPath } from './binary.mjs';

/** The header in which `serve` sends back the checks a request failed (docs/serve.md). */
export const VIOLATIONS_HEADER = 'x-kit-violations';

/** How much of `serve`'s standard error is kept to quote when it fails to start. */
const STDERR_TAIL = 8192;

/** The variables `serve --exec` exports, by ready-line member. */
const ENVIRONMENT = {
  url: 'ALIPAY_KIT_URL',
  clientId: 'ALIPAY_KIT_CLIENT_ID',
  merchantPrivateKey: 'ALIPAY_KIT_MERCHANT_PRIVATE_KEY',
  merchantPublicKey: 'ALIPAY_KIT_MERCHANT_PUBLIC_KEY',
  alipayPublicKey: 'ALIPAY_KIT_ALIPAY_PUBLIC_KEY',
  keyVersion: 'ALIPAY_KIT_KEY_VERSION',
  version: 'ALIPAY_KIT_VERSION',
  caCertificatePem: 'ALIPAY_KIT_CA_CERTIFICATE_PEM',
};

/**
 * Starts `alipay-cancel-kit serve --port 0` on loopback (`--tls` for HTTPS with a CA made for
 * the session) and resolves, once it accepts connections, to a Gateway.
 *
 * Rejects with an Error that says why: no binary for this platform (naming the package to
 * install), `serve` exiting before it was ready (its standard error quoted), or no ready line
 * within `timeoutMs`.
 */
export async function startGateway({ tls = false, args = [], bin, timeoutMs = 30000 } = {}) {
  const kit = bin ?? binaryPath();
  // The ready line holds the private key: it goes to a file only this user can read, not to a
  // pipe whose reader must be kept draining. serve writes it whole, then renames it into place.
  const dir = mkdtempSync(path.join(tmpdir(), 'alipay-cancel-kit-'));
  const readyFile = path.join(dir, 'ready.json');
  const argv = ['serve', '--host', '127.0.0.1', '--port', '0', '--ready-file', readyFile,
    ...(tls ? ['--tls'] : []), ...args];
  const child = spawn(kit, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  // Read standard error to its end for the session's whole life, or serve blocks on a full pipe.
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exit = null;
  exited.then((e) => { exit = e; });
  let spawnError = null;
  child.once('error', (e) => { spawnError = e; });
  // A suite that forgets close() must not leave a gateway behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const cleanup = () => {
    process.removeListener('exit', reap);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  let ready;
  for (;;) {
    if (spawnError) {
      cleanup();
      throw new Error(`cannot run ${kit}: ${spawnError.message}`);
    }
    try {
      ready = JSON.parse(readFileSync(readyFile, 'utf8'));
      break;
    } catch (e) {
      if (e.code !== 'ENOENT') {
        child.kill('SIGKILL');
        cleanup();
        throw new Error(`${readyFile}: the ready line is not JSON: ${e.message}`);
      }
    }
    if (exit) {
      cleanup();
      await sleep(20); // the last of standard error
      throw new Error(`alipay-cancel-kit ${argv.join(' ')} exited (${exit.signal ?? `code ${exit.code}`}) ` +
        `before it was ready; its standard error:\n${stderr.trimEnd() || '(empty)'}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`alipay-cancel-kit serve was not ready within ${timeoutMs} ms; its standard error:\n` +
        `${stderr.trimEnd() || '(empty)'}`);
    }
    await sleep(20);
  }

  return new Gateway(ready, {
    async close() {
      if (!exit) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const result = await exited;
      clearTimeout(timer);
      cleanup();
      return result;
    },
  });
}

/**
 * The Gateway that `alipay-cancel-kit serve --exec "COMMAND"` started for COMMAND, read from
 * the variables it exports (ALIPAY_KIT_URL, ALIPAY_KIT_CLIENT_ID, ...). Its close() leaves the
 * gateway running: serve stops it when COMMAND ends.
 *
 * Throws when ALIPAY_KIT_URL or a key is missing, naming the variable.
 */
export function fromEnvironment(env = process.env) {
  const ready = {};
  for (const [member, name] of Object.entries(ENVIRONMENT)) {
    if (env[name] !== undefined && env[name] !== '') ready[member] = env[name];
  }
  // ALIPAY_KIT_READY holds the whole line: fill in anything the single variables lacked.
  if (env.ALIPAY_KIT_READY) {
    try {
      for (const [k, v] of Object.entries(JSON.parse(env.ALIPAY_KIT_READY))) ready[k] ??= v;
    } catch (e) {
      throw new Error(`ALIPAY_KIT_READY is not JSON: ${e.message}`);
    }
  }
  if (!ready.caCertificatePem && env.ALIPAY_KIT_CA_FILE) {
    ready.caCertificatePem = readFileSync(env.ALIPAY_KIT_CA_FILE, 'utf8');
  }
  for (const member of ['url', 'clientId', 'merchantPrivateKey', 'alipayPublicKey']) {
    if (!ready[member]) {
      throw new Error(`${ENVIRONMENT[member]} is not set: run the suite under ` +
        '`alipay-cancel-kit serve --exec "..."`, or use startGateway()');
    }
  }
  return new Gateway(ready, { async close() { return null; } });
}

/**
 * The checks that `serve` says a request broke, from an answer's headers (a Node `headers`
 * object, a fetch `Headers`, or a Map): an array of `{id, level, message, expected, seen,
 * rule}`, empty when the header is absent.
 */
export function violations(headers) {
  const value = typeof headers?.get === 'function' ? headers.get(VIOLATIONS_HEADER) : headers?.[VIOLATIONS_HEADER];
  if (value === undefined || value === null) return [];
  return JSON.parse(Array.isArray(value) ? value[0] : value);
}

/** Throws an Error in the kit's words when an answer carries `x-kit-violations`. */
export function assertNoViolations(headers) {
  const broken = violations(headers);
  if (broken.length === 0) return;
  const lines = broken.map((v) => v.truncated
    ? `... and ${v.omitted} more`
    : `${v.level} ${v.id}: ${v.message}${v.expected !== undefined ? `\n    expected: ${v.expected}` : ''}` +
      `${v.seen !== undefined ? `\n    seen: ${v.seen}` : ''}\n    rule: ${v.rule}`);
  throw new Error(`the gateway says the request broke ${broken.length} check(s):\n${lines.join('\n')}`);
}

/** A running gateway: the ready line's facts, and its /__kit/ endpoints. */
export class Gateway {
  constructor(ready, { close }) {
    /** The base URL, no path: `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS. */
    this.url = ready.url;
    this.clientId = ready.clientId;
    /** Base64 of PKCS#8 DER: `createPrivateKey({key: Buffer.from(k, 'base64'), format: 'der', type: 'pkcs8'})`. */
    this.merchantPrivateKey = ready.merchantPrivateKey;
    /** Base64 of SubjectPublicKeyInfo DER. */
    this.merchantPublicKey = ready.merchantPublicKey;
    this.alipayPublicKey = ready.alipayPublicKey;
    this.keyVersion = ready.keyVersion ?? '1';
    /** The session CA (PEM) with TLS, else undefined: trust it with `new https.Agent({ ca })`. */
    this.caCertificatePem = ready.caCertificatePem;
    this.version = ready.version;
    this.ready = ready;
    const base = new URL(this.url);
    this.agent = base.protocol === 'https:'
      ? new https.Agent({ ca: this.caCertificatePem, keepAlive: false })
      : new http.Agent({ keepAlive: false });
    this._close = close;
    this._counter = 0;
  }

  /** A fresh magic id, `kit:<scenario>:<unique>`: the scenario's answers, from the first. */
  magic(scenario) {
    return `kit:${scenario}:${process.pid}-${++this._counter}-${randomUUID().slice(0, 8)}`;
  }

  /**
   * Arms the next matching requests with a scenario's answers (`times` over). `scope` narrows
   * them to `{id}` (requests naming that paymentId or paymentRequestId) or `{clientId}`. A
   * scenario may also be given as `{answers: [...]}` in the catalogue's answer format.
   */
  async arm(scenario, times = 1, scope = {}) {
    const spec = typeof scenario === 'string' ? { scenario } : { ...scenario };
    return this._call('POST', '/__kit/arm', { ...spec, times, ...scope });
  }

  /** The journal, oldest first (`?id=` when `id` is given): the `requests` array of GET /__kit/requests. */
  async requests(id) {
    const query = id === undefined ? '' : `?id=${encodeURIComponent(id)}`;
    return (await this._call('GET', `/__kit/requests${query}`)).requests;
  }

  /** Clears the journal and the memory (cancelled ids, magic ids' places, armed answers);
   * resolves to how many exchanges the journal dropped. serve's totals (its exit code) stay. */
  async clear() {
    return (await this._call('DELETE', '/__kit/requests')).cleared;
  }

  /** Stops a gateway startGateway() started and resolves to its {code, signal} (serve exits 1
   * when a request broke a MUST check); does nothing for one from fromEnvironment(). */
  async close() {
    this.agent.destroy();
    return this._close();
  }

  async _call(method, route, body) {
    const url = new URL(route, this.url);
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const transport = url.protocol === 'https:' ? https : http;
    const answer = await new Promise((resolve, reject) => {
      const req = transport.request(url, {
        method,
        agent: this.agent,
        timeout: 10000,
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
      req.on('error', reject);
      req.end(data);
    });
    if (answer.status < 200 || answer.status > 299) {
      throw new Error(`${method} ${route}: HTTP ${answer.status}: ${answer.text}`);
    }
    return answer.text ? JSON.parse(answer.text) : null;
  }
}
