<?php

declare(strict_types=1);

namespace CancelKit\Example;

/**
 * @internal An exchange that did not settle the cancel: why, the answer's `result` if it had
 * one, and whether calling again is allowed (not after a believed `S` the client cannot use).
 */
final class OpenResult
{
    /** @param array<string, mixed>|null $result */
    public function __construct(
        public readonly string $why,
        public readonly ?array $result = null,
        public readonly bool $mayRetry = true,
    ) {
    }
}
