//! `cancelTime`: RFC 3339 date-times with every offset in use, fractions of any length.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::Chars;

/// Offsets in use somewhere on Earth that are not whole hours, or are at the range's ends.
pub const ODD_OFFSETS: [&str; 14] = [
    "+05:30", "+05:45", "-03:30", "+09:30", "-09:30", "+03:30", "+04:30", "+06:30", "+08:45",
    "+10:30", "+12:45", "+13:45", "-12:00", "+14:00",
];

fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A UTC offset as RFC 3339 writes it: `Z` or `z`, a whole hour from `-12:00` to `+14:00`,
/// one of the [`ODD_OFFSETS`] in real use (`+05:45`, `-03:30`, ...), or any minute of the range.
pub fn offset() -> BoxedStrategy<String> {
    prop_oneof![
        2 => select(vec!["Z", "z"]).prop_map(str::to_owned),
        3 => (-12i32..=14).prop_map(|h| offset_text(h * 60)),
        2 => select(ODD_OFFSETS.to_vec()).prop_map(str::to_owned),
        1 => (-720i32..=840).prop_map(offset_text),
    ]
    .boxed()
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A valid RFC 3339 `cancelTime`: a real date of 2000..2099, any time of day, no fraction or
/// 1 to 9 fraction digits, `T` (or, rarely, `t`), and any [`offset`].
pub fn cancel_time() -> BoxedStrategy<String> {
    let fraction = prop_oneof![
        2 => Just(String::new()),
        1 => vec(Chars::range('0', '9'), 1..=9).prop_map(|d| format!(".{}", d.into_iter().collect::<String>())),
    ];
    let t = prop_oneof![9 => Just('T'), 1 => Just('t')];
    (
        (2000i32..=2099, 1u32..=12, 0u32..31),
        (0u32..24, 0u32..60, 0u32..60),
        fraction,
        t,
        offset(),
    )
        .prop_map(|((year, month, day), (h, m, s), fraction, t, offset)| {
            let day = 1 + day % days_in_month(year, month);
            format!("{year:04}-{month:02}-{day:02}{t}{h:02}:{m:02}:{s:02}{fraction}{offset}")
        })
        .boxed()
}
