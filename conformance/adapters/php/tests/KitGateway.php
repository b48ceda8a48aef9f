<?php

declare(strict_types=1);

namespace CancelKit\Example\Tests;

use CancelKit\Example\CancelClient;

/**
 * The `alipay-cancel-kit serve` that `serve --exec` started, read from the environment it
 * exports (docs/serve.md, "A CI gate around any test suite"), and its `/__kit/` endpoints.
 */
final class KitGateway
{
    private function __construct(
        public readonly string $url,
        public readonly string $clientId,
        public readonly string $merchantPrivateKey,
        public readonly string $alipayPublicKey,
        public readonly string $keyVersion,
        public readonly ?string $caFile,
    ) {
    }

    /**
     * The gateway of `serve --exec`.
     *
     * @throws \RuntimeException naming what is missing when the suite runs without it: a
     *                           suite that passed without a gateway would prove nothing
     */
    public static function fromEnvironment(): self
    {
        $get = static function (string $name): string {
            $value = getenv($name);
            if ($value === false || $value === '') {
                throw new \RuntimeException("{$name} is not set: run this suite under the kit's gateway, "
                    . 'alipay-cancel-kit serve [--tls] --exec "phpunit -c conformance/adapters/php/phpunit.xml --testsuite serve"');
            }
            return $value;
        };
        $caFile = getenv('ALIPAY_KIT_CA_FILE');
        $url = $get('ALIPAY_KIT_URL');
        if (str_starts_with($url, 'https:') && ($caFile === false || !is_readable($caFile))) {
            throw new \RuntimeException("the gateway is {$url} but ALIPAY_KIT_CA_FILE names no readable CA file");
        }
        return new self(
            $url,
            $get('ALIPAY_KIT_CLIENT_ID'),
            $get('ALIPAY_KIT_MERCHANT_PRIVATE_KEY'),
            $get('ALIPAY_KIT_ALIPAY_PUBLIC_KEY'),
            getenv('ALIPAY_KIT_KEY_VERSION') ?: '1',
            $caFile === false || $caFile === '' ? null : $caFile,
        );
    }

    /** The client under test, pointed at this gateway. */
    public function client(int $timeoutMs = 5000): CancelClient
    {
        return new CancelClient(
            $this->url,
            $this->clientId,
            $this->merchantPrivateKey,
            $this->alipayPublicKey,
            keyVersion: $this->keyVersion,
            timeoutMs: $timeoutMs,
            caCertificatePem: $this->caFile === null ? null : (string) file_get_contents($this->caFile),
        );
    }

    /**
     * `POST /__kit/arm`: the next matching requests get these answers.
     *
     * @param array<string, mixed> $arm
     */
    public function arm(array $arm): void
    {
        [$status, $body] = $this->call('POST', '/__kit/arm', json_encode($arm, JSON_THROW_ON_ERROR));
        if ($status !== 200) {
            throw new \RuntimeException("POST /__kit/arm answered HTTP {$status}: {$body}");
        }
    }

    /**
     * `GET /__kit/requests?id=ID`: the exchanges naming this id, oldest first.
     *
     * @return list<array<string, mixed>>
     */
    public function journal(string $id): array
    {
        [$status, $body] = $this->call('GET', '/__kit/requests?id=' . rawurlencode($id), null);
        if ($status !== 200) {
            throw new \RuntimeException("GET /__kit/requests answered HTTP {$status}: {$body}");
        }
        return json_decode($body, true, 512, JSON_THROW_ON_ERROR)['requests'];
    }

    /**
     * The path of the kit's binary, for `scenarios --magic`: `ALIPAY_KIT_BIN` (exported by
     * `serve --exec`), else `alipay-cancel-kit` on PATH, else the repository's release build.
     */
    public static function kitBinary(): ?string
    {
        $bin = getenv('ALIPAY_KIT_BIN');
        if ($bin !== false && $bin !== '') {
            return $bin;
        }
        foreach (explode(PATH_SEPARATOR, (string) getenv('PATH')) as $dir) {
            if ($dir !== '' && is_executable("{$dir}/alipay-cancel-kit")) {
                return "{$dir}/alipay-cancel-kit";
            }
        }
        $built = REPO_ROOT . '/target/release/alipay-cancel-kit';
        return is_executable($built) ? $built : null;
    }

    /** @return array{0: int, 1: string} the status and body */
    private function call(string $method, string $path, ?string $body): array
    {
        $ch = curl_init($this->url . $path);
        $options = [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT_MS => 5000,
            CURLOPT_HTTPHEADER => ['Content-Type: application/json'],
        ];
        if ($body !== null) {
            $options[CURLOPT_POSTFIELDS] = $body;
        }
        if ($this->caFile !== null) {
            $options[CURLOPT_CAINFO] = $this->caFile;
        }
        curl_setopt_array($ch, $options);
        $answer = curl_exec($ch);
        if ($answer === false) {
            throw new \RuntimeException("{$method} {$path}: curl error " . curl_errno($ch) . ': ' . curl_error($ch));
        }
        return [(int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE), (string) $answer];
    }
}
