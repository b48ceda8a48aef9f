<?php

declare(strict_types=1);

namespace CancelKit\Example\Tests;

use CancelKit\Example\CancelClient;
use CancelKit\Example\CancelResponse;
use CancelKit\Example\Exchange;
use CancelKit\Example\UnknownResultException;
use PHPUnit\Framework\TestCase;

/**
 * The example client against `alipay-cancel-kit serve`, over HTTP or HTTPS as the gateway
 * was started: every row of the result-code table, answers that must not be believed, a
 * timeout, a sequence, an armed answer and the journal.
 *
 *     alipay-cancel-kit serve --tls --exec "phpunit -c conformance/adapters/php/phpunit.xml --testsuite serve"
 *
 * Magic ids (`kit:<scenario>:<unique suffix>`) choose the gateway's answers; any other id is
 * cancelled successfully once and remembered. Every test first checks that the gateway
 * found nothing wrong with the requests (no `x-kit-violations` on any answer, or, when no
 * answer came back, no failed check in the journal), then what the client surfaced.
 */
final class ServeTest extends TestCase
{
    private static KitGateway $gateway;

    public static function setUpBeforeClass(): void
    {
        // Throws, and so fails every test, when the suite runs without a gateway.
        self::$gateway = KitGateway::fromEnvironment();
    }

    /** The result-code table, from the kit's own data (schema/result-codes.json), one case per row. */
    public static function resultCodeRows(): iterable
    {
        $table = json_decode((string) file_get_contents(REPO_ROOT . '/schema/result-codes.json'), true, 512, JSON_THROW_ON_ERROR);
        foreach ($table['rows'] as $row) {
            yield $row['resultCode'] => [$row['resultCode'], $row['resultStatus']];
        }
    }

    /** @dataProvider resultCodeRows */
    public function testEveryRowOfTheResultCodeTable(string $code, string $status): void
    {
        $sent = self::magic("result/{$code}");
        $settled = self::cancel(['paymentRequestId' => $sent]);

        self::assertNoViolations($settled);
        if ($status === 'U') {
            // U leaves the result open: the client calls again (the same answer each time), then gives up.
            self::assertInstanceOf(UnknownResultException::class, $settled);
            self::assertSame($code, $settled->result['resultCode'] ?? null);
            self::assertCount(3, $settled->exchanges);
            return;
        }
        self::assertInstanceOf(CancelResponse::class, $settled);
        self::assertSame($code, $settled->resultCode());
        self::assertSame($status, $settled->resultStatus());
        self::assertCount(1, $settled->exchanges, 'a signed S or F is final: no second call');
        if ($status === 'S') {
            self::assertTrue($settled->isSuccess());
            self::assertSame($sent, $settled->paymentRequestId, 'the gateway echoes the id sent');
            self::assertNotNull($settled->cancelTime);
        }
    }

    public function testTheKitKnowsEveryRowAsAMagicId(): void
    {
        $bin = KitGateway::kitBinary();
        if ($bin === null) {
            self::markTestSkipped('no kit binary: set ALIPAY_KIT_BIN, or put alipay-cancel-kit on PATH');
        }
        exec(escapeshellarg($bin) . ' scenarios --magic', $lines, $status);
        self::assertSame(0, $status, "{$bin} scenarios --magic failed");
        $listed = array_map(static fn (string $line): string => strtok($line, " \t"), $lines);
        foreach (self::resultCodeRows() as [$code]) {
            self::assertContains("kit:result/{$code}", $listed);
        }
    }

    public function testAnOrdinaryIdIsCancelledOnceAndRemembered(): void
    {
        $sent = 'order-' . bin2hex(random_bytes(8));
        $first = self::cancel(['paymentRequestId' => $sent]);
        $again = self::cancel(['paymentRequestId' => $sent]);

        self::assertNoViolations($first);
        self::assertNoViolations($again);
        self::assertInstanceOf(CancelResponse::class, $first);
        self::assertInstanceOf(CancelResponse::class, $again);
        self::assertTrue($first->isSuccess());
        self::assertSame($sent, $first->paymentRequestId);
        self::assertSame($first->cancelTime?->text, $again->cancelTime?->text, 'the same answer when cancelled again');
    }

    public function testAnUnsignedSuccessIsNotBelieved(): void
    {
        $settled = self::cancel(['paymentId' => self::magic('signature/missing-on-success')]);

        self::assertNoViolations($settled);
        self::assertInstanceOf(UnknownResultException::class, $settled);
        self::assertStringContainsString('an unsigned success answer', $settled->getMessage());
        self::assertSame('S', self::lastAnswerStatus($settled), 'the unbelieved answer was an S');
    }

    public function testATamperedSignatureIsNotBelieved(): void
    {
        $settled = self::cancel(['paymentId' => self::magic('signature/tampered-success')]);

        self::assertNoViolations($settled);
        self::assertInstanceOf(UnknownResultException::class, $settled);
        self::assertStringContainsString('does not verify', $settled->getMessage());
        self::assertSame('S', self::lastAnswerStatus($settled), 'the unbelieved answer was an S');
    }

    public function testNoAnswerInTimeIsUnknownNotAResult(): void
    {
        $sent = self::magic('fault/timeout');
        // Well under the 2,500 ms the gateway holds this scenario's answer (docs/serve.md).
        $settled = self::cancel(['paymentId' => $sent], timeoutMs: 400);

        // No answer came back to carry x-kit-violations: the journal has the gateway's checks.
        $journal = self::$gateway->journal($sent);
        self::assertNotEmpty($journal, 'the requests reached the gateway');
        foreach ($journal as $exchange) {
            self::assertSame([], $exchange['checks'], "request {$exchange['seq']} broke no request check");
        }
        self::assertInstanceOf(UnknownResultException::class, $settled);
        self::assertCount(3, $settled->exchanges, 'no answer leaves the result open: the client calls again, 3 calls in all');
        self::assertLessThanOrEqual(3, count($journal));
        foreach ($settled->exchanges as $x) {
            self::assertSame(0, $x->status);
            self::assertStringContainsString('timed out', (string) $x->error);
        }
    }

    public function testUThenSuccessSettlesWhenCalledAgain(): void
    {
        $sent = self::magic('retry/u-then-success');
        $settled = self::cancel(['paymentId' => $sent]);

        self::assertNoViolations($settled);
        self::assertInstanceOf(CancelResponse::class, $settled);
        self::assertTrue($settled->isSuccess());
        self::assertSame($sent, $settled->paymentId);
        self::assertCount(2, $settled->exchanges, 'U, then the same body again, then S');
        self::assertSame($settled->exchanges[0]->requestBody, $settled->exchanges[1]->requestBody);
    }

    public function testAnArmedAnswerComesBeforeTheOrdinaryOne(): void
    {
        $sent = 'armed-' . bin2hex(random_bytes(8));
        self::$gateway->arm(['scenario' => 'result/PROCESS_FAIL', 'times' => 1, 'id' => $sent]);

        $armed = self::cancel(['paymentRequestId' => $sent]);
        $after = self::cancel(['paymentRequestId' => $sent]);

        self::assertNoViolations($armed);
        self::assertNoViolations($after);
        self::assertInstanceOf(CancelResponse::class, $armed);
        self::assertSame('PROCESS_FAIL', $armed->resultCode());
        self::assertInstanceOf(CancelResponse::class, $after);
        self::assertTrue($after->isSuccess(), 'the armed answer is used up: the next cancel is ordinary');
    }

    public function testAnArmedHttpErrorIsATransportErrorAndIsRetried(): void
    {
        $sent = 'armed-' . bin2hex(random_bytes(8));
        self::$gateway->arm(['answers' => [['status' => 503, 'rawBody' => 'busy']], 'id' => $sent]);

        $settled = self::cancel(['paymentRequestId' => $sent]);

        self::assertNoViolations($settled);
        self::assertInstanceOf(CancelResponse::class, $settled);
        self::assertTrue($settled->isSuccess(), 'after the 503 the client called again and got the ordinary S');
        self::assertSame([503, 200], array_map(static fn (Exchange $x): int => $x->status, $settled->exchanges));
    }

    public function testTheJournalHoldsTheRequestAsSent(): void
    {
        $sent = 'journal-' . bin2hex(random_bytes(8));
        $settled = self::cancel(['paymentRequestId' => $sent, 'merchantAccountId' => '商户-1']);

        self::assertNoViolations($settled);
        $journal = self::$gateway->journal($sent);
        self::assertCount(1, $journal);
        self::assertSame('POST', $journal[0]['method']);
        self::assertSame(CancelClient::CANCEL_PATH, $journal[0]['path']);
        self::assertSame($settled->exchanges[0]->requestBody, $journal[0]['body'], 'the gateway got the bytes signed');
        self::assertSame(['paymentRequestId' => $sent], $journal[0]['ids'], 'the ids the gateway read (merchantAccountId is no id)');
        self::assertSame('商户-1', json_decode($journal[0]['body'], true)['merchantAccountId']);
        self::assertSame([], $journal[0]['checks']);
        self::assertContains(['request[' . $journal[0]['seq'] . '].signature', 'MUST'], $journal[0]['passed']);
    }

    // --- helpers ------------------------------------------------------------------------

    /** A magic id of its own for each test, so sequences start afresh. */
    private static function magic(string $scenario): string
    {
        return "kit:{$scenario}:" . bin2hex(random_bytes(4));
    }

    /**
     * Cancels, returning what the client surfaced: the settled response, or the exception
     * for a result that stayed open. The timeout is generous (a loaded CI machine must not
     * turn a prompt answer into a retry); only the timeout test shortens it.
     *
     * @param array<string, string> $fields
     */
    private static function cancel(array $fields, int $timeoutMs = 5000): CancelResponse|UnknownResultException
    {
        try {
            return self::$gateway->client($timeoutMs)->cancel($fields);
        } catch (UnknownResultException $e) {
            return $e;
        }
    }

    /** Every answer came back without `x-kit-violations`: the gateway found every request correct. */
    private static function assertNoViolations(CancelResponse|UnknownResultException $settled): void
    {
        $answered = array_filter($settled->exchanges, static fn (Exchange $x): bool => $x->error === null);
        self::assertNotEmpty($answered, 'at least one answer came back');
        foreach ($answered as $x) {
            self::assertNull($x->header('x-kit-violations'), "exchange {$x->attempt}: the gateway reports broken request checks");
        }
    }

    private static function lastAnswerStatus(UnknownResultException $e): ?string
    {
        $body = json_decode((string) $e->exchanges[array_key_last($e->exchanges)]->body, true);
        return $body['result']['resultStatus'] ?? null;
    }
}
