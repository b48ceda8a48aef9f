<?php

declare(strict_types=1);

namespace CancelKit\Example;

/**
 * A settled cancel: the gateway's believed answer with status `S` (cancelled) or `F`
 * (refused). Every other ending is an exception (InvalidRequestException,
 * UnknownResultException).
 */
final class CancelResponse
{
    /**
     * @param array<string, mixed> $result    the answer's `result` object, as decoded
     * @param list<Exchange>       $exchanges every exchange this cancel made, in order
     */
    public function __construct(
        public readonly array $result,
        public readonly ?string $paymentId,
        public readonly ?string $paymentRequestId,
        public readonly ?CancelTime $cancelTime,
        public readonly array $exchanges,
    ) {
    }

    public function isSuccess(): bool
    {
        return $this->result['resultStatus'] === 'S';
    }

    public function resultCode(): string
    {
        return $this->result['resultCode'];
    }

    public function resultStatus(): string
    {
        return $this->result['resultStatus'];
    }

    public function resultMessage(): ?string
    {
        $message = $this->result['resultMessage'] ?? null;
        return is_string($message) ? $message : null;
    }
}
