<?php

declare(strict_types=1);

namespace CancelKit\Example;

/**
 * An RFC 3339 `date-time` as served, kept as text: every fraction digit and the offset stay
 * exactly as the gateway wrote them.
 *
 * PHP's own parsers are the wrong tool here: `new DateTimeImmutable($text)` accepts almost
 * anything (`+0800`, a space for `T`, no offset at all, taken as the default time zone),
 * `createFromFormat` rolls 31 April over into 1 May, and `DateTime` keeps microseconds only,
 * so a seven-digit fraction would lose a digit. A strict pattern, `checkdate` and range
 * checks, then the text itself, keep every digit.
 */
final class CancelTime
{
    private const PATTERN = '/^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/D';

    private function __construct(public readonly string $text)
    {
    }

    /** The served text if it is RFC 3339, `T` and `Z` written in upper case; else null. */
    public static function parse(mixed $text): ?self
    {
        // `\d` matches ASCII digits only without the `u` modifier; `$` with `D` does not
        // accept a trailing line feed.
        if (!is_string($text) || preg_match(self::PATTERN, $text, $m) !== 1) {
            return null;
        }
        [, $year, $month, $day, $hour, $minute, $second] = array_map('intval', array_slice($m, 0, 7));
        if (!checkdate($month, $day, $year) || $hour > 23 || $minute > 59 || $second > 60) {
            return null;
        }
        $offsetMinutes = 0;
        if (isset($m[9]) && $m[9] !== '') {
            if ((int) $m[9] > 23 || (int) $m[10] > 59) {
                return null;
            }
            $offsetMinutes = ((int) $m[9] * 60 + (int) $m[10]) * ($m[8][0] === '-' ? -1 : 1);
        }
        // A leap second is inserted at 23:59:60 UTC only.
        if ($second === 60 && (($hour * 60 + $minute - $offsetMinutes) % 1440 + 1440) % 1440 !== 23 * 60 + 59) {
            return null;
        }
        return new self(strtoupper(substr($text, 0, 11)) . substr($text, 11, -1) . strtoupper(substr($text, -1)));
    }
}
