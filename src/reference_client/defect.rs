//! The reference client's switches: each [`Defect`] one deliberate bug, each [`Style`] one way
//! correct clients differ, and the [`Behaviour`] that holds both.

use std::collections::BTreeSet;

/// One deliberate bug of the reference client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Defect {
    /// Sends an all-digit `paymentId` as a JSON number.
    NumberForString,
    /// Leaves the `/ams` prefix out of the path it signs.
    WrongStringToSign,
    /// Sends no `Signature` header.
    NoRequestSignature,
    /// Believes every response without verifying its signature.
    NoResponseVerification,
    /// Treats an empty response signature as a valid one.
    AcceptEmptySignature,
    /// Surfaces `U` as `FAILED`.
    UnknownAsFailure,
    /// Surfaces a timeout or an HTTP error status as `FAILED`.
    TransportErrorAsFailure,
    /// Calls again after an `F`.
    RetryFailure,
    /// Calls again after a `U` with only the first id of the instruction.
    RetryWithOtherIds,
    /// Reports `cancelTime`'s wall-clock digits as UTC, dropping the offset.
    IgnoreCancelTimeOffset,
    /// Crashes on a response member it does not know.
    CrashOnUnknownField,
    /// Crashes on a result code missing from the table.
    CrashOnUnknownCode,
    /// Sends ids longer than 64 characters without complaint.
    NoLocalValidation,
    /// Speaks HTTPS without checking the certificate or the host name (trusts all).
    NoCertificateCheck,
    /// Signs the compact body, then sends it re-serialised (a space after each `:` and `,`),
    /// as a client that signs one serialisation and lets its HTTP library write another: every
    /// request's signature fails.
    ReserializeAfterSigning,
    /// Sends the request's `signature` value as raw base64 (a bare `+`, `/`, `=`), not
    /// URL-encoded.
    RawBase64Signature,
    /// Counts id lengths in bytes, not characters, when it validates locally: refuses a
    /// 64-character id of multi-byte characters.
    CountIdBytes,
    /// Drops the minutes of a `cancelTime` offset when they are 45 (`+05:45` read as
    /// `+05:00`): broken on one rare input only, which the fuzzer must find and shrink to.
    MisreadOddOffset,
}

impl Defect {
    /// Every defect, in declaration order.
    pub fn all() -> Vec<Defect> {
        use clap::ValueEnum;
        Defect::value_variants().to_vec()
    }

    /// The defect's command-line name, e.g. `retry-failure`.
    pub fn name(self) -> String {
        use clap::ValueEnum;
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// A set of defects; empty for the correct client.
pub type Defects = BTreeSet<Defect>;

/// One way a correct client may write its outcome, as real clients differ: not a defect (with
/// any styles the client still passes every scenario: no `FAIL`, no `ERROR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Style {
    /// Writes every outcome member it has no value for as `null`, as Jackson's default, .NET's
    /// and Go's serializers do (a served `"resultMessage": null` passes through as `null`).
    Nulls,
    /// Keeps `cancelTime` to the millisecond, truncating, and writes it in UTC with three
    /// digits, as JavaScript's `Date` does (`new Date(text).toISOString()`).
    Millis,
    /// Keeps `cancelTime` to the microsecond, truncating, and writes it in the served offset
    /// (`+00:00` for `Z`) with six digits when there is a fraction, as Python's `datetime` does
    /// (`datetime.fromisoformat(text).isoformat()`).
    Micros,
}

impl Style {
    /// Every style, in declaration order.
    pub fn all() -> Vec<Style> {
        use clap::ValueEnum;
        Style::value_variants().to_vec()
    }

    /// The style's command-line name, e.g. `millis`.
    pub fn name(self) -> String {
        use clap::ValueEnum;
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }

    /// How many fraction digits of `cancelTime` a client of this style keeps, if it drops some.
    pub fn fraction_digits(self) -> Option<usize> {
        match self {
            Style::Nulls => None,
            Style::Millis => Some(3),
            Style::Micros => Some(6),
        }
    }
}

/// A set of styles; empty for the plain client (absent members left out, every digit kept).
/// With both `millis` and `micros`, the coarser wins: milliseconds.
pub type Styles = BTreeSet<Style>;

/// How the built-in client behaves: the deliberate defects switched on (none for the correct
/// client) and the styles it writes its outcome in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Behaviour {
    /// The deliberate bugs.
    pub defects: Defects,
    /// The ways of writing an outcome, all correct.
    pub styles: Styles,
}

impl Behaviour {
    /// The correct client writing in these styles.
    pub fn styled(styles: impl IntoIterator<Item = Style>) -> Behaviour {
        Behaviour {
            defects: Defects::new(),
            styles: styles.into_iter().collect(),
        }
    }

    /// Whether this defect is switched on.
    pub fn has(&self, defect: Defect) -> bool {
        self.defects.contains(&defect)
    }
}

impl From<Defects> for Behaviour {
    fn from(defects: Defects) -> Behaviour {
        Behaviour {
            defects,
            styles: Styles::new(),
        }
    }
}

impl FromIterator<Defect> for Behaviour {
    fn from_iter<I: IntoIterator<Item = Defect>>(defects: I) -> Behaviour {
        Behaviour::from(defects.into_iter().collect::<Defects>())
    }
}
