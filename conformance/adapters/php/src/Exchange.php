<?php

declare(strict_types=1);

namespace CancelKit\Example;

/**
 * One HTTP exchange of a cancel, as the client saw it: what a test (or a log) inspects.
 * `status` is 0 and `error` says why when no complete answer came back.
 */
final class Exchange
{
    /**
     * @param array<string, string> $headers the answer's headers, names in lower case (the
     *                                       first value of a repeated header)
     */
    public function __construct(
        public readonly int $attempt,
        public readonly string $requestBody,
        public readonly int $status,
        public readonly array $headers,
        public readonly ?string $body,
        public readonly ?string $error,
    ) {
    }

    /** A header of the answer, by name in any case. */
    public function header(string $name): ?string
    {
        return $this->headers[strtolower($name)] ?? null;
    }
}
