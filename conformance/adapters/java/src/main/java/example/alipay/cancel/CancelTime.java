package example.alipay.cancel;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A served {@code cancelTime}: the RFC 3339 text and the instant it denotes.
 *
 * <p>The text is kept because {@code OffsetDateTime} cannot round-trip it: it holds at most 9
 * fraction digits, and its {@code toString()} drops trailing zeros ({@code .120} becomes
 * {@code .12}) and zero seconds ({@code 19:07:00} becomes {@code 19:07}). {@code
 * OffsetDateTime.parse} is also not a strict RFC 3339 parser: it accepts {@code +08}, {@code
 * +08:00:00} and years past 9999, and rejects fractions over 9 digits. Hence a pattern of our
 * own, with java.time only checking the calendar.
 */
public record CancelTime(String text, OffsetDateTime instant) {
    /** RFC 3339 {@code date-time}: {@code T}/{@code Z} of either case, any fraction, an offset. */
    private static final Pattern RFC3339 = Pattern.compile(
            "(\\d{4})-(\\d{2})-(\\d{2})[Tt](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?(?:([Zz])|([+-])(\\d{2}):(\\d{2}))");

    /**
     * Parses RFC 3339 text strictly; {@code null} for anything else (a missing offset, a
     * space for {@code T}, {@code +0800}, 31 April, hour 24).
     */
    public static CancelTime parse(String text) {
        if (text == null) {
            return null;
        }
        // \d in java.util.regex is [0-9] unless UNICODE_CHARACTER_CLASS is set: good.
        Matcher m = RFC3339.matcher(text);
        if (!m.matches()) {
            return null;
        }
        try {
            LocalDate date = LocalDate.of(num(m, 1), num(m, 2), num(m, 3));
            String fraction = m.group(7) == null ? "" : m.group(7);
            // Nanoseconds hold 9 digits; further digits are below what an instant here carries.
            int nanos = fraction.isEmpty() ? 0 : Integer.parseInt((fraction + "000000000").substring(0, 9));
            LocalTime time = LocalTime.of(num(m, 4), num(m, 5), num(m, 6), nanos);
            ZoneOffset offset;
            if (m.group(8) != null) {
                offset = ZoneOffset.UTC;
            } else {
                int hours = num(m, 10);
                int minutes = num(m, 11);
                if (hours > 23 || minutes > 59) {
                    return null;
                }
                offset = ZoneOffset.ofHoursMinutes(m.group(9).equals("-") ? -hours : hours,
                        m.group(9).equals("-") ? -minutes : minutes);
            }
            // RFC 3339 allows t and z in lower case; upper case is the form everyone reads.
            return new CancelTime(text.toUpperCase(Locale.ROOT), OffsetDateTime.of(date, time, offset));
        } catch (DateTimeException e) {
            return null;
        }
    }

    private static int num(Matcher m, int group) {
        return Integer.parseInt(m.group(group));
    }

    @Override
    public String toString() {
        return text;
    }
}
