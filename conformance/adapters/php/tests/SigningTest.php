<?php

declare(strict_types=1);

namespace CancelKit\Example\Tests;

use CancelKit\Example\Signing;
use PHPUnit\Framework\TestCase;

/** The signing scheme against the golden vectors of docs/adapter-protocol.md, with the committed TEST-ONLY keys. */
final class SigningTest extends TestCase
{
    private const PATH = '/ams/api/v1/payments/cancel';

    private static function key(string $name): string
    {
        return (string) file_get_contents(REPO_ROOT . "/conformance/keys/TEST-ONLY-{$name}");
    }

    public function testTheRequestGoldenVector(): void
    {
        $key = Signing::privateKey(self::key('merchant-private.pkcs8.b64'));
        $value = Signing::sign($key, self::PATH, 'TEST_5YBZ1', '1685599933871', '{"paymentId":"2019061218401080010018882020035XXXX"}');

        self::assertSame(
            'eNaC6gPFZYAXNLYGgHJvyxwqUIoG5qr73fiHdDq3GjK5QGy8%2BtH1y3fAhI8GNgAM2teopoME%2FhvTmujJsUE1TExe%2FjoPQgp80wrRov7X9ZRzVKZWsZYoCLxBmG8kpBxpAdzPeoPZ54GT4RZxpTijDON3FO7HvTEV50T27XDm4GxO5lrkwXsvVBICryQypibXo9QqZeSgAmMEpEfd3qETWlHzLzNCXb%2FMrcp%2FwazB5TbiUZBWPZzNbtvsyQndMdE8ZXXHP1stqxwb7FHLdXHegr1xG5KDE7qoBAAdwJiujVerA1MvlrKYkAXcSLN9GOGy7uxi3snAo0kXioxyLn4cUw%3D%3D',
            $value,
        );
    }

    public function testTheAnswerGoldenVectorVerifiesRawAndUrlEncodedWithEitherCase(): void
    {
        $key = Signing::publicKey(self::key('vendor-public.spki.b64'));
        $body = '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}';
        $raw = 'qxoEemBDFRrNq52zWSa1x+SBbGMz9rtu4KQXyQfrkGLk9iS/bzu9RRe98EYTgI9XbZN0VOdt3mze6bLGkwXH9rR34/0ysuMceMOjTJtW4R8e6H3peOurS+BekgxVxN+gQPwWkLNRq0suSyzXLbyNLcG7dYGONVSS6OGX5gARiSonSk0y9rAspDNnvxcWpZMRAxaI2RwBcUBFkTXnQ83sTxFtWHEj0qcS0waOwapeJv4FUud31jY6musEvP2TQA4dUw81x4+T5J9D+K6ER8dbRwrxq5hrz8zzbZYQPoDEeFJ9hbLGY8+GTTt8+F0gfZ2RRAwzgA5ZV2Q4QiOAMU8ycA==';
        $time = '2019-06-12T19:07:11+08:00';

        // A bare `+` is a base64 digit: urldecode would make it a space and break the signature.
        self::assertNull(Signing::verify($key, self::PATH, 'TEST_5YBZ1', $time, $body, $raw));
        self::assertNull(Signing::verify($key, self::PATH, 'TEST_5YBZ1', $time, $body, urlencode($raw)));
        self::assertNull(Signing::verify($key, self::PATH, 'TEST_5YBZ1', $time, $body, str_replace(['%2B', '%2F', '%3D'], ['%2b', '%2f', '%3d'], urlencode($raw))));
        self::assertNotNull(Signing::verify($key, self::PATH, 'TEST_5YBZ1', $time, $body . ' ', $raw), 'one byte more');
        self::assertNotNull(Signing::verify($key, self::PATH, 'OTHER', $time, $body, $raw), 'another client id');
        self::assertNotNull(Signing::verify(Signing::publicKey(self::key('other-vendor-public.spki.b64')), self::PATH, 'TEST_5YBZ1', $time, $body, $raw), 'another key');
    }

    public function testTheHeaderParserToleratesSpacesOrderAndPadding(): void
    {
        self::assertSame(
            ['signature' => 'ab==', 'algorithm' => 'RSA256', 'keyVersion' => '1'],
            Signing::parseHeader('signature=ab== , algorithm=RSA256,  keyVersion=1'),
        );
    }

    /** @return iterable<string, array{0: callable(string): mixed, 1: string, 2: string}> */
    public static function wrongKeys(): iterable
    {
        yield 'not base64' => [Signing::privateKey(...), 'not base64!', 'merchantPrivateKey: not base64'];
        yield 'a public key as the private key' => [Signing::privateKey(...), 'TEST-ONLY-vendor-public.spki.b64', 'merchantPrivateKey: not a PKCS#8 private key'];
        yield 'a private key as the public key' => [Signing::publicKey(...), 'TEST-ONLY-vendor-private.pkcs8.b64', 'alipayPublicKey: not a SubjectPublicKeyInfo public key'];
    }

    /** @dataProvider wrongKeys */
    public function testAKeyOfTheWrongKindIsRefusedNamingTheField(callable $load, string $text, string $message): void
    {
        $file = REPO_ROOT . "/conformance/keys/{$text}";
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage($message);
        $load(is_file($file) ? (string) file_get_contents($file) : $text);
    }
}
