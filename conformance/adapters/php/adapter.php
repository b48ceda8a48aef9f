<?php

/*
 * The adapter for alipay-cancel-kit (docs/adapter-protocol.md, protocol v1) around the
 * example client in src/: one instruction line in, one outcome line out, flushed, so the
 * same loop serves exec mode (one line, then end of input) and persistent mode. Everything
 * else goes to standard error.
 *
 *     php adapter.php                  # serve instructions from standard input
 *     php adapter.php --capabilities   # ["tls"]
 *
 * To wrap your own SDK, replace `cancel()` below: build your client from the instruction's
 * `gateway` and `timeoutMs`, call its cancel with `request`, and map what it returns or
 * throws to an outcome (README.md, "Wrapping your own SDK").
 */

declare(strict_types=1);

use CancelKit\Example\CancelClient;
use CancelKit\Example\InvalidRequestException;
use CancelKit\Example\UnknownResultException;

// A warning printed on standard output would break the protocol: PHP's CLI shows errors on
// standard output unless told otherwise, so they go to standard error, and every warning
// becomes an exception that the loop below turns into an outcome.
ini_set('display_errors', 'stderr');
error_reporting(E_ALL);
set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    if ((error_reporting() & $severity) === 0) {
        return false; // silenced with @ on purpose
    }
    throw new ErrorException($message, 0, $severity, $file, $line);
});

foreach (['curl', 'openssl', 'json', 'mbstring'] as $extension) {
    if (!extension_loaded($extension)) {
        fwrite(STDERR, "adapter.php: PHP's {$extension} extension is missing (apt-get install php-cli php-curl php-mbstring)\n");
        exit(2);
    }
}

require __DIR__ . '/src/autoload.php';

const PROTOCOL = 'alipay-cancel-kit/1';

/** `tls`: the client speaks HTTPS trusting only the instruction's CA, and checks the host name. */
const CAPABILITIES = ['tls'];

/**
 * One instruction to one outcome. Every path returns an outcome: an exception that escaped
 * would print nothing, and the kit would call the scenario an ERROR.
 *
 * @param array<string, mixed> $instruction
 * @return array<string, string>
 */
function cancel(array $instruction): array
{
    $gateway = $instruction['gateway'] ?? null;
    if (!is_array($gateway) || !is_int($instruction['timeoutMs'] ?? null)) {
        return outcome('UNKNOWN', error: 'unusable instruction: no gateway or timeoutMs');
    }
    try {
        // [SDK 1] Build your client from the instruction: base URL, client id, both keys,
        // keyVersion, a per-exchange timeout, and the CA to trust over HTTPS.
        $client = new CancelClient(
            gatewayUrl: (string) ($gateway['url'] ?? ''),
            clientId: (string) ($gateway['clientId'] ?? ''),
            merchantPrivateKey: (string) ($gateway['merchantPrivateKey'] ?? ''),
            alipayPublicKey: (string) ($gateway['alipayPublicKey'] ?? ''),
            keyVersion: (string) ($gateway['keyVersion'] ?? '1'),
            timeoutMs: $instruction['timeoutMs'],
            caCertificatePem: $gateway['caCertificatePem'] ?? null,
        );
    } catch (InvalidArgumentException $e) {
        return outcome('UNKNOWN', error: 'unusable instruction: ' . $e->getMessage());
    }
    $request = $instruction['request'] ?? null;
    if (!is_array($request)) {
        return outcome('INVALID_REQUEST', error: 'refused locally: `request` is not an object');
    }
    try {
        // [SDK 2] Cancel with exactly the instruction's fields.
        $response = $client->cancel($request);
    } catch (InvalidRequestException $e) { // [SDK 3] your exceptions: refused locally, result open
        return outcome('INVALID_REQUEST', error: 'refused locally: ' . $e->getMessage());
    } catch (UnknownResultException $e) {
        return outcome('UNKNOWN', $e->result, error: $e->getMessage());
    }
    // [SDK 4] Map what your client returned: S -> SUCCESS with the ids and cancelTime, F -> FAILED.
    if (!$response->isSuccess()) {
        return outcome('FAILED', $response->result);
    }
    return outcome(
        'SUCCESS',
        $response->result,
        paymentId: $response->paymentId,
        paymentRequestId: $response->paymentRequestId,
        // The served text, checked to be RFC 3339: every fraction digit and the offset kept.
        cancelTime: $response->cancelTime?->text,
    );
}

/**
 * An outcome line's members: the `result` strings as served, the rest when given.
 *
 * @param array<string, mixed>|null $result
 * @return array<string, string>
 */
function outcome(string $kind, ?array $result = null, ?string $error = null, ?string $paymentId = null, ?string $paymentRequestId = null, ?string $cancelTime = null): array
{
    $out = ['outcome' => $kind];
    foreach (['resultCode', 'resultStatus', 'resultMessage'] as $name) {
        if (is_string($result[$name] ?? null)) {
            $out[$name] = $result[$name];
        }
    }
    $fields = ['paymentId' => $paymentId, 'paymentRequestId' => $paymentRequestId, 'cancelTime' => $cancelTime, 'error' => $error];
    return $out + array_filter($fields, static fn (?string $v): bool => $v !== null);
}

/** @return array<string, string> */
function handle(string $line): array
{
    try {
        $instruction = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
    } catch (JsonException $e) {
        return outcome('UNKNOWN', error: 'unreadable instruction: ' . $e->getMessage());
    }
    if (!is_array($instruction) || ($instruction['protocol'] ?? null) !== PROTOCOL) {
        return outcome('UNKNOWN', error: 'not an ' . PROTOCOL . ' instruction');
    }
    $tag = '[' . (is_string($instruction['scenario'] ?? null) ? $instruction['scenario'] : '?') . ']';
    $started = hrtime(true);
    try {
        $out = cancel($instruction);
    } catch (Throwable $e) {
        // A bug of ours: say so on standard error, but still answer this instruction.
        fwrite(STDERR, "{$tag} unexpected error: {$e}\n");
        return outcome('UNKNOWN', error: 'adapter error: ' . get_class($e) . ': ' . $e->getMessage());
    }
    $ms = intdiv(hrtime(true) - $started, 1_000_000);
    fwrite(STDERR, rtrim("{$tag} {$ms} ms -> {$out['outcome']} " . ($out['resultCode'] ?? '') . ' ' . ($out['error'] ?? '')) . "\n");
    return $out;
}

if (in_array('--capabilities', array_slice($argv, 1), true)) {
    echo json_encode(CAPABILITIES), "\n";
    exit(0);
}

while (($line = fgets(STDIN)) !== false) {
    if (trim($line) === '') {
        continue;
    }
    // ASCII-only JSON (\u escapes): one line, whatever the terminal's encoding; a curl error
    // message that is not UTF-8 is substituted, never a reason to print nothing.
    fwrite(STDOUT, json_encode(handle($line), JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR) . "\n");
    fflush(STDOUT);
}
