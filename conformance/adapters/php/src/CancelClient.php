<?php

declare(strict_types=1);

namespace CancelKit\Example;

use OpenSSLAsymmetricKey;

/**
 * A cancel client for Alipay's (Antom's) `POST /ams/api/v1/payments/cancel`, in the shape
 * PHP SDKs give one: configured once, `cancel()` returns the settled answer or throws.
 *
 *     $client = new CancelClient('https://open-sea-global.alipay.com', $clientId,
 *         $merchantPrivateKey, $alipayPublicKey);
 *     try {
 *         $response = $client->cancel(['paymentRequestId' => 'order-42']);
 *         $response->isSuccess();   // true: cancelled; false: refused (F), see resultCode()
 *     } catch (UnknownResultException $e) {
 *         // U, a timeout, an answer that cannot be believed: call again later, same ids
 *     }
 *
 * It validates the ids before sending (InvalidRequestException), signs every request,
 * believes an answer only when correctly signed (or unsigned with status `F` or `U`), and
 * calls again with the very same body after a `U` or no usable answer, at most
 * `$maxAttempts` times in all; never after an `S` or `F` it believes.
 */
final class CancelClient
{
    public const CANCEL_PATH = '/ams/api/v1/payments/cancel';
    public const SANDBOX_CANCEL_PATH = '/ams/sandbox/api/v1/payments/cancel';

    /** The body fields of a cancel and their length limits, in Unicode code points. */
    private const ID_LIMITS = ['paymentId' => 64, 'paymentRequestId' => 64, 'merchantAccountId' => 32];

    private readonly string $url;
    private readonly string $path;
    private readonly OpenSSLAsymmetricKey $merchantKey;
    private readonly OpenSSLAsymmetricKey $vendorKey;
    /**
     * A private temporary directory holding only `ca.pem`, the CA to trust, or null. curl
     * reads a CA from a file (CAINFO); the directory doubles as its CA directory (CAPATH), so
     * that no other CA is trusted (see exchange()).
     */
    private ?string $caDir = null;

    /**
     * @param string      $gatewayUrl         scheme, host and port: `https://open-sea-global.alipay.com`
     * @param string      $merchantPrivateKey base64 of PKCS#8 DER, as the vendor's console gives it
     * @param string      $alipayPublicKey    base64 of X.509 SubjectPublicKeyInfo DER
     * @param int         $timeoutMs          the time allowed one HTTP exchange, connect to last byte
     * @param string|null $caCertificatePem   the only CA to trust for HTTPS (null: the system's)
     * @param int         $maxAttempts        calls in all while the result stays open (the contract allows 5)
     * @param int         $retryPauseMs       pause before the second call, growing linearly after
     *
     * @throws \InvalidArgumentException on a URL that is not http(s) or a key that does not load
     */
    public function __construct(
        string $gatewayUrl,
        private readonly string $clientId,
        string $merchantPrivateKey,
        string $alipayPublicKey,
        private readonly string $keyVersion = '1',
        private readonly int $timeoutMs = 15000,
        ?string $caCertificatePem = null,
        private readonly int $maxAttempts = 3,
        private readonly int $retryPauseMs = 50,
    ) {
        $scheme = parse_url($gatewayUrl, PHP_URL_SCHEME);
        if ($scheme !== 'http' && $scheme !== 'https') {
            throw new \InvalidArgumentException("gatewayUrl: expected an http or https URL, found '{$gatewayUrl}'");
        }
        if ($timeoutMs < 1 || $maxAttempts < 1 || $maxAttempts > 5) {
            throw new \InvalidArgumentException('timeoutMs must be at least 1, maxAttempts 1 to 5');
        }
        // A SANDBOX_ client id calls, and signs, the sandbox path.
        $this->path = str_starts_with($clientId, 'SANDBOX_') ? self::SANDBOX_CANCEL_PATH : self::CANCEL_PATH;
        $this->url = rtrim($gatewayUrl, '/') . $this->path;
        $this->merchantKey = Signing::privateKey($merchantPrivateKey);
        $this->vendorKey = Signing::publicKey($alipayPublicKey);
        if ($caCertificatePem !== null) {
            $this->caDir = self::privateCaDir($caCertificatePem);
        }
    }

    public function __destruct()
    {
        if ($this->caDir !== null) {
            @unlink($this->caDir . '/ca.pem');
            @rmdir($this->caDir);
        }
    }

    /**
     * A fresh directory only we can write to (mode 0700; mkdir fails rather than reuse one
     * that exists), holding the CA as `ca.pem`.
     *
     * @throws \InvalidArgumentException when it cannot be written
     */
    private static function privateCaDir(string $pem): string
    {
        $dir = sys_get_temp_dir() . '/cancel-kit-ca-' . bin2hex(random_bytes(8));
        if (!@mkdir($dir, 0700)) {
            throw new \InvalidArgumentException("caCertificatePem: cannot create {$dir}");
        }
        if (@file_put_contents("{$dir}/ca.pem", $pem) !== strlen($pem)) {
            @unlink("{$dir}/ca.pem");
            @rmdir($dir);
            throw new \InvalidArgumentException("caCertificatePem: cannot write {$dir}/ca.pem");
        }
        return $dir;
    }

    /**
     * Cancels the payment named by `$fields` (`paymentId`, `paymentRequestId`, and optionally
     * `merchantAccountId`; a null field is left out).
     *
     * @param array<string, mixed> $fields
     *
     * @throws InvalidRequestException when the fields break the request rules; nothing is sent
     * @throws UnknownResultException  when the result is still open after the last call
     */
    public function cancel(array $fields): CancelResponse
    {
        $body = json_encode(self::validate($fields), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
        $exchanges = [];
        $open = new OpenResult('no call made');
        for ($attempt = 1; $attempt <= $this->maxAttempts; $attempt++) {
            if ($attempt > 1) {
                usleep($this->retryPauseMs * 1000 * ($attempt - 1));
            }
            // The same body bytes every time, with a fresh Request-Time and signature.
            $exchanges[] = $exchange = $this->exchange($attempt, $body);
            $settled = $this->interpret($exchange);
            if ($settled instanceof CancelResponse) {
                return new CancelResponse($settled->result, $settled->paymentId, $settled->paymentRequestId, $settled->cancelTime, $exchanges);
            }
            $open = $settled;
            if (!$open->mayRetry) {
                break;
            }
        }
        $calls = count($exchanges) === 1 ? '1 call' : count($exchanges) . ' calls';
        throw new UnknownResultException("{$open->why} (after {$calls})", $open->result, $exchanges);
    }

    /**
     * The request rules (docs/api.md#request-body): every field a string of 1 to 64 code
     * points (`merchantAccountId` 1 to 32), at least one of the two ids, nothing else.
     *
     * @param array<array-key, mixed> $fields
     * @return array<string, string> the fields to send, nulls left out
     * @throws InvalidRequestException naming the field and the rule
     */
    public static function validate(array $fields): array
    {
        $body = [];
        foreach ($fields as $name => $value) {
            // json_decode makes a numeric member name an int key: compare as strings.
            $name = (string) $name;
            $limit = self::ID_LIMITS[$name] ?? null;
            if ($limit === null) {
                throw new InvalidRequestException("{$name}: the cancel call has no such parameter");
            }
            if ($value === null) {
                continue;
            }
            if (!is_string($value)) {
                throw new InvalidRequestException("{$name}: expected a string, found " . get_debug_type($value));
            }
            if (!mb_check_encoding($value, 'UTF-8')) {
                throw new InvalidRequestException("{$name}: not valid UTF-8");
            }
            // Code points, as the API counts them: strlen would count a CJK character 3 times.
            $length = mb_strlen($value, 'UTF-8');
            if ($length < 1 || $length > $limit) {
                throw new InvalidRequestException("{$name}: expected 1 to {$limit} characters, found {$length}");
            }
            $body[$name] = $value;
        }
        if (!isset($body['paymentId']) && !isset($body['paymentRequestId'])) {
            throw new InvalidRequestException('paymentId or paymentRequestId: at least one must be given');
        }
        return $body;
    }

    /** One signed POST on a fresh connection, all of it within timeoutMs. */
    private function exchange(int $attempt, string $body): Exchange
    {
        $requestTime = (string) (int) floor(microtime(true) * 1000);
        $signature = Signing::sign($this->merchantKey, $this->path, $this->clientId, $requestTime, $body);
        $headers = [];
        $ch = curl_init($this->url);
        $options = [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_HTTPHEADER => [
                'Content-Type: application/json; charset=UTF-8',
                "Client-Id: {$this->clientId}",
                "Request-Time: {$requestTime}",
                "Signature: algorithm=RSA256,keyVersion={$this->keyVersion},signature={$signature}",
                // curl asks for `100-continue` before larger bodies; a gateway need not answer it.
                'Expect:',
            ],
            CURLOPT_RETURNTRANSFER => true,
            // curl hands over every header line, of every response (an interim 1xx too);
            // names are case-insensitive, so they are kept in lower case.
            CURLOPT_HEADERFUNCTION => static function ($ch, string $line) use (&$headers): int {
                if (str_starts_with($line, 'HTTP/')) {
                    $headers = [];
                } elseif (($colon = strpos($line, ':')) !== false) {
                    $headers[strtolower(trim(substr($line, 0, $colon)))] ??= trim(substr($line, $colon + 1));
                }
                return strlen($line);
            },
            CURLOPT_HTTP_VERSION => CURL_HTTP_VERSION_1_1,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_CONNECTTIMEOUT_MS => $this->timeoutMs,
            CURLOPT_TIMEOUT_MS => $this->timeoutMs,
            // Without it a resolver timeout uses SIGALRM, which has whole-second granularity.
            CURLOPT_NOSIGNAL => true,
            CURLOPT_SSL_VERIFYPEER => true,
            CURLOPT_SSL_VERIFYHOST => 2,
        ];
        if ($this->caDir !== null) {
            // This CA and no other. CAINFO replaces curl's CA bundle, but Debian's libcurl
            // also searches its built-in CA directory (/etc/ssl/certs), and PHP cannot unset
            // CAPATH (null becomes "", an error). A directory without hashed names trusts nothing.
            $options[CURLOPT_CAINFO] = $this->caDir . '/ca.pem';
            $options[CURLOPT_CAPATH] = $this->caDir;
        }
        curl_setopt_array($ch, $options);
        $answer = curl_exec($ch);
        if ($answer === false) {
            $error = sprintf('no answer: curl error %d: %s', curl_errno($ch), curl_error($ch));
            return new Exchange($attempt, $body, 0, $headers, null, $error);
        }
        return new Exchange($attempt, $body, (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE), $headers, (string) $answer, null);
    }

    /** Reads one answer (docs/adapter-protocol.md#reading-an-answer): settled, or still open. */
    private function interpret(Exchange $x): CancelResponse|OpenResult
    {
        if ($x->error !== null) {
            return new OpenResult($x->error);
        }
        if ($x->status !== 200) {
            return new OpenResult("HTTP status {$x->status}: a transport error, whatever the body says");
        }
        // Arrays, not objects: a member name starting with NUL is legal JSON but no legal
        // property name. The ids are strings in JSON and stay strings; a number where an id
        // belongs is not an id (see the README on JSON_BIGINT_AS_STRING).
        $doc = json_decode((string) $x->body, true, 512);
        if (json_last_error() !== JSON_ERROR_NONE) {
            return new OpenResult('the body is not JSON: ' . json_last_error_msg());
        }
        $result = is_array($doc) ? ($doc['result'] ?? null) : null;
        if (!is_array($result)) {
            return new OpenResult('the answer has no `result` object');
        }
        $status = $result['resultStatus'] ?? null;
        // Strict comparison: in_array's loose default takes `"resultStatus": true` for 'S'.
        if (!in_array($status, ['S', 'F', 'U'], true) || !is_string($result['resultCode'] ?? null)) {
            return new OpenResult('unusable result: resultStatus ' . json_encode($status) . ', resultCode ' . json_encode($result['resultCode'] ?? null));
        }
        $untrusted = $this->untrusted($x, $status);
        if ($untrusted !== null) {
            return new OpenResult("cannot believe the answer: {$untrusted}", $result);
        }
        if ($status === 'U') {
            return new OpenResult('the result is unknown (U)', $result);
        }
        if ($status === 'F') {
            return new CancelResponse($result, null, null, null, []);
        }
        $paymentId = $doc['paymentId'] ?? null;
        $paymentRequestId = $doc['paymentRequestId'] ?? null;
        $cancelTime = CancelTime::parse($doc['cancelTime'] ?? null);
        if (!is_string($paymentId) || !is_string($paymentRequestId) || $cancelTime === null) {
            // A believed S is definitive: calling again is not allowed, but it cannot be surfaced.
            return new OpenResult('a success answer without usable ids or cancelTime', $result, false);
        }
        return new CancelResponse($result, $paymentId, $paymentRequestId, $cancelTime, []);
    }

    /**
     * Why the answer cannot be believed, or null (docs/adapter-protocol.md#verifying-an-answer).
     * Only F and U may arrive unsigned: the gateway does not sign a refusal of a request it
     * could not authenticate.
     */
    private function untrusted(Exchange $x, string $status): ?string
    {
        $signature = $x->header('signature');
        $responseTime = $x->header('response-time');
        if ($signature === null && $responseTime === null) {
            return $status === 'S' ? 'an unsigned success answer' : null;
        }
        if ($signature === null || $responseTime === null) {
            return 'only one of `signature` and `response-time` is present';
        }
        $echoed = $x->header('client-id');
        if ($echoed !== null && $echoed !== $this->clientId) {
            return "the answer is for client id '{$echoed}', not '{$this->clientId}'";
        }
        try {
            $pairs = Signing::parseHeader($signature);
        } catch (\UnexpectedValueException $e) {
            return 'signature header: ' . $e->getMessage();
        }
        if (($pairs['algorithm'] ?? null) !== 'RSA256') {
            return 'signature header: algorithm ' . json_encode($pairs['algorithm'] ?? null) . ', expected RSA256';
        }
        if (($pairs['signature'] ?? '') === '') {
            return 'signature header: empty or missing `signature`';
        }
        // Over the raw body bytes as received, the request's path and the request's client id.
        return Signing::verify($this->vendorKey, $this->path, $this->clientId, $responseTime, (string) $x->body, $pairs['signature']);
    }
}
