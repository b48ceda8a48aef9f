<?php

declare(strict_types=1);

namespace CancelKit\Example\Tests;

use CancelKit\Example\CancelClient;
use CancelKit\Example\CancelTime;
use CancelKit\Example\InvalidRequestException;
use PHPUnit\Framework\TestCase;

/** What the client decides without a gateway: the request rules and cancelTime. */
final class CancelClientTest extends TestCase
{
    public function testIdsAreCountedInCodePointsNotBytes(): void
    {
        $cjk = str_repeat('支', 64); // 192 bytes, 64 code points: legal

        self::assertSame(['paymentRequestId' => $cjk], CancelClient::validate(['paymentRequestId' => $cjk]));
    }

    /** @return iterable<string, array{0: array<string, mixed>, 1: string}> */
    public static function brokenRequests(): iterable
    {
        yield 'no id' => [['merchantAccountId' => 'M1'], 'paymentId or paymentRequestId: at least one must be given'];
        yield 'only nulls' => [['paymentId' => null, 'paymentRequestId' => null], 'paymentId or paymentRequestId: at least one must be given'];
        yield '65 characters' => [['paymentId' => str_repeat('9', 65)], 'paymentId: expected 1 to 64 characters, found 65'];
        yield 'empty' => [['paymentRequestId' => ''], 'paymentRequestId: expected 1 to 64 characters, found 0'];
        yield 'merchantAccountId of 33' => [['paymentId' => 'P', 'merchantAccountId' => str_repeat('户', 33)], 'merchantAccountId: expected 1 to 32 characters, found 33'];
        yield 'a number' => [['paymentId' => 2019061218401080010018882020035], 'paymentId: expected a string, found float'];
        yield 'an unknown field' => [['paymentId' => 'P', 'amount' => '1'], 'amount: the cancel call has no such parameter'];
    }

    /**
     * @dataProvider brokenRequests
     * @param array<string, mixed> $fields
     */
    public function testBrokenRequestsAreRefusedNamingTheFieldAndTheRule(array $fields, string $message): void
    {
        $this->expectException(InvalidRequestException::class);
        $this->expectExceptionMessage($message);
        CancelClient::validate($fields);
    }

    public function testTheBodyIsCompactJsonWithSlashesAndUnicodeAsTheyAre(): void
    {
        $body = json_encode(CancelClient::validate(['paymentRequestId' => 'a/b"支']), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);

        self::assertSame('{"paymentRequestId":"a/b\"支"}', $body);
    }

    /** @return iterable<string, array{0: string, 1: ?string}> */
    public static function cancelTimes(): iterable
    {
        yield 'offset kept' => ['2019-06-12T19:07:11+08:00', '2019-06-12T19:07:11+08:00'];
        yield 'seven digits kept' => ['2019-06-12T11:07:11.1234567Z', '2019-06-12T11:07:11.1234567Z'];
        yield 'lower-case t and z' => ['2019-06-12t11:07:11z', '2019-06-12T11:07:11Z'];
        yield 'odd offset' => ['2019-06-12T16:52:11+05:45', '2019-06-12T16:52:11+05:45'];
        yield 'leap second at 23:59:60 UTC' => ['2017-01-01T07:59:60+08:00', '2017-01-01T07:59:60+08:00'];
        yield 'no colon in the offset' => ['2019-06-12T19:07:11+0800', null];
        yield 'a space for T' => ['2019-06-12 19:07:11Z', null];
        yield 'no offset' => ['2019-06-12T19:07:11', null];
        yield '31 April' => ['2019-04-31T19:07:11Z', null];
        yield 'a trailing line feed' => ["2019-06-12T19:07:11Z\n", null];
        yield 'a leap second elsewhere' => ['2019-06-12T19:07:60Z', null];
    }

    /** @dataProvider cancelTimes */
    public function testCancelTimeIsStrictRfc3339KeptAsServed(string $served, ?string $surfaced): void
    {
        self::assertSame($surfaced, CancelTime::parse($served)?->text);
    }
}
