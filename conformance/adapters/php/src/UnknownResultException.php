<?php

declare(strict_types=1);

namespace CancelKit\Example;

/**
 * The cancel's result is still open after the last call (a `U`, a timeout, an answer that
 * cannot be believed): the payment may or may not be cancelled. Calling cancel again with the
 * same ids is the vendor's advice.
 */
final class UnknownResultException extends \RuntimeException
{
    /**
     * @param array<string, mixed>|null $result    the last answer's `result` object, if it had one
     * @param list<Exchange>            $exchanges every exchange this cancel made, in order
     */
    public function __construct(
        string $message,
        public readonly ?array $result,
        public readonly array $exchanges,
    ) {
        parent::__construct($message);
    }
}
