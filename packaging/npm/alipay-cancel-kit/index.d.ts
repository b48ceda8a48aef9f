// Type declarations of the alipay-cancel-kit Node helper (index.mjs).

import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';

/** Options of startGateway(). */
export interface StartOptions {
  /** Serve HTTPS with a CA made for the session (`serve --tls`); `caCertificatePem` holds it. */
  tls?: boolean;
  /** More `serve` arguments: `['--client-id', 'ACME_1']`, `['--junit', 'serve.xml']`, ... */
  args?: string[];
  /** The binary to run, instead of the platform package's (or ALIPAY_CANCEL_KIT_BINARY). */
  bin?: string;
  /** How long to wait for the gateway to be ready, in ms (default 30000). */
  timeoutMs?: number;
}

/** One failed request check, as `serve` reports it in `x-kit-violations` and the journal. */
export interface Violation {
  id: string;
  level: 'MUST' | 'SHOULD' | 'INFO';
  message: string;
  expected?: string;
  seen?: string;
  rule: string;
}

/** One exchange of the journal (GET /__kit/requests); docs/serve.md, "The journal". */
export interface JournalEntry {
  seq: number;
  receivedAt: string;
  method: string;
  path: string;
  /** Header name and value pairs, in arrival order. */
  headers: [string, string][];
  body: string;
  ids: { paymentId?: string; paymentRequestId?: string; merchantAccountId?: string };
  /** The checks that failed (empty when all held). */
  checks: Violation[];
  /** The checks that held: [id, level]. */
  passed: [string, string][];
  /** Why the answer was chosen. */
  source:
    | { kind: 'refused' }
    | { kind: 'ordinary'; repeated: boolean }
    | { kind: 'magic'; scenario: string; index: number }
    | { kind: 'armed'; label: string }
    | { kind: 'unservable'; why: string };
  answer: { status: number; headers: [string, string][]; body: string; [member: string]: unknown };
  [member: string]: unknown;
}

/** What POST /__kit/arm answers. */
export interface Armed {
  armed: string;
  answers: number;
  waiting: number;
  [member: string]: unknown;
}

/** Exit of a gateway startGateway() started: serve exits 1 when a request broke a MUST check. */
export interface GatewayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running gateway: the ready line's facts, and its /__kit/ endpoints. */
export declare class Gateway {
  /** `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS; no path. */
  readonly url: string;
  readonly clientId: string;
  /** Base64 of PKCS#8 DER, no armour. */
  readonly merchantPrivateKey: string;
  /** Base64 of X.509 SubjectPublicKeyInfo DER, no armour. */
  readonly merchantPublicKey: string;
  /** Base64 of X.509 SubjectPublicKeyInfo DER, no armour: verifies the gateway's answers. */
  readonly alipayPublicKey: string;
  readonly keyVersion: string;
  /** The session CA (PEM) when the gateway speaks HTTPS, else undefined. */
  readonly caCertificatePem: string | undefined;
  /** The kit's version. */
  readonly version: string | undefined;
  /** The whole ready line, as parsed. */
  readonly ready: Record<string, string>;
  /** An agent that trusts the session CA (HTTPS) or a plain one (HTTP), for your own calls. */
  readonly agent: HttpAgent | HttpsAgent;
  /** A fresh magic id, `kit:<scenario>:<unique>`, whose answers start from the scenario's first. */
  magic(scenario: string): string;
  /** Arms the next matching requests with a scenario's answers, `times` over (default 1). */
  arm(
    scenario: string | { answers: unknown[] },
    times?: number,
    scope?: { id?: string; clientId?: string },
  ): Promise<Armed>;
  /** The journal's exchanges, oldest first; only those naming `id` when given. */
  requests(id?: string): Promise<JournalEntry[]>;
  /** Clears the journal and the memory (cancelled ids, magic ids' places, armed answers);
   * resolves to how many exchanges were dropped. serve's totals (its exit code) stay. */
  clear(): Promise<number>;
  /** Stops a gateway that startGateway() started; resolves to null for fromEnvironment()'s. */
  close(): Promise<GatewayExit | null>;
}

/** Starts `alipay-cancel-kit serve --port 0` on loopback and resolves once it is ready. */
export declare function startGateway(options?: StartOptions): Promise<Gateway>;

/** The gateway `alipay-cancel-kit serve --exec` started, from the variables it exports. */
export declare function fromEnvironment(env?: NodeJS.ProcessEnv): Gateway;

/** The checks an answer's `x-kit-violations` header lists (empty when absent). */
export declare function violations(
  headers: Record<string, string | string[] | undefined> | { get(name: string): string | null },
): Violation[];

/** Throws an Error in the kit's words when an answer carries `x-kit-violations`. */
export declare function assertNoViolations(
  headers: Record<string, string | string[] | undefined> | { get(name: string): string | null },
): void;

/** The path of the platform package's binary; throws naming the package to install. */
export declare function binaryPath(): string;

/** `x-kit-violations`. */
export declare const VIOLATIONS_HEADER: 'x-kit-violations';
