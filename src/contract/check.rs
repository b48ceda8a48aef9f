//! Checks, their levels, and the typed id of every check the contract names.
//!
//! A [`Check`] is what reports carry (its serialized form is the public JSON); a [`CheckId`]
//! is which rule of `docs/contract.md` it is, with the report id, the level and the anchor the
//! report prints. The contract lowers two checks to SHOULD in named cases ([`Exception`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The values a failed check quotes, by name (`stringToSign`, `served`, `surfaced`), as they
/// are: no quoting, no escapes, so a test or a report reads them whole.
pub type Values = BTreeMap<String, String>;

/// How much a failed check weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Its failure makes the scenario `FAIL`.
    Must,
    /// Its failure makes the scenario `NON_STRICT`.
    Should,
    /// Reported only.
    Info,
}

impl Level {
    /// The word reports use, as on the wire: `MUST`, `SHOULD`, `INFO`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::Info => "INFO",
        }
    }
}

/// One check and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Stable id, e.g. `request[1].signature` or `outcome.kind` (see [`CheckId::report_id`]).
    pub id: String,
    /// How much a failure weighs.
    pub level: Level,
    /// Whether the check held.
    pub held: bool,
    /// One line for humans: what was checked and, when it failed, what went wrong.
    pub message: String,
    /// The rule it enforces, as a reference into the contract or the API spec.
    pub rule: String,
    /// What the kit expected, when that is not obvious from the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the kit saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<String>,
    /// The values the failure quotes, by name, exactly as they are: the `stringToSign` of a
    /// signature mismatch, the `served` and `surfaced` values of an outcome rule.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: Values,
}

impl Check {
    /// A check that held.
    pub fn pass(id: &str, level: Level, rule: &str, message: impl Into<String>) -> Check {
        Check {
            id: id.to_owned(),
            level,
            held: true,
            message: message.into(),
            rule: rule.to_owned(),
            expected: None,
            seen: None,
            values: Values::new(),
        }
    }

    /// A check that failed, with what was expected and what was seen.
    pub fn fail(
        id: &str,
        level: Level,
        rule: &str,
        message: impl Into<String>,
        expected: impl Into<String>,
        seen: impl Into<String>,
    ) -> Check {
        Check {
            id: id.to_owned(),
            level,
            held: false,
            message: message.into(),
            rule: rule.to_owned(),
            expected: Some(expected.into()),
            seen: Some(seen.into()),
            values: Values::new(),
        }
    }
}

/// A failed finding: what went wrong, what was expected, what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What the rule demands, in words.
    pub message: String,
    /// What the kit expected.
    pub expected: String,
    /// What the kit saw.
    pub seen: String,
    /// The values it quotes, by name (see [`Check::values`]).
    pub values: Values,
}

impl Failure {
    /// A failure from its three texts.
    pub fn new(
        message: impl Into<String>,
        expected: impl Into<String>,
        seen: impl Into<String>,
    ) -> Failure {
        Failure {
            message: message.into(),
            expected: expected.into(),
            seen: seen.into(),
            values: Values::new(),
        }
    }

    /// The failure, quoting one more value by name.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Failure {
        self.values.insert(name.to_owned(), value.into());
        self
    }
}

/// Every check of `docs/contract.md`: the eight request checks (some in two parts) and the
/// outcome rules.
///
/// The id fixes the text reports print: [`CheckId::report_id`] (request checks are numbered
/// by request, `request[2].signature`), [`CheckId::level`] and [`CheckId::rule`], the anchor
/// into the contract. Where the contract lowers a check in a named case, [`Exception`] says
/// how.
///
/// # Example
/// ```
/// use alipay_cancel_kit::contract::{CheckId, Level};
/// assert_eq!(CheckId::Signature.report_id(2), "request[2].signature");
/// assert_eq!(CheckId::Signature.rule(), "docs/contract.md#request-checks 5");
/// assert_eq!(CheckId::CancelTime.report_id(1), "outcome.cancelTime");
/// assert_eq!(CheckId::Charset.level(), Level::Should);
/// assert_eq!(CheckId::from_report_id("request[3].client-id"), Some(CheckId::ClientId));
/// assert_eq!(CheckId::from_report_id("answer[1].client-id"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CheckId {
    /// Request check 1: the method is `POST`.
    Method,
    /// Request check 1: the cancel path (the sandbox path for a `SANDBOX_` client id).
    Path,
    /// Request check 2: a JSON `Content-Type`.
    ContentType,
    /// Request check 2: `charset=UTF-8` declared.
    Charset,
    /// Request check 3: `Client-Id` is the instruction's.
    ClientId,
    /// Request check 4: `Request-Time` present, in an SDK's format.
    RequestTime,
    /// Request check 4: `Request-Time` within 5 minutes of the kit's clock.
    RequestTimeSkew,
    /// Request check 5: the `Signature` header verifies.
    Signature,
    /// Request check 5: the `signature` value is URL-encoded, not raw base64.
    SignatureEncoding,
    /// Request check 6: the body is valid against the request schema.
    Body,
    /// Request check 6: no member the request schema does not define.
    UnknownMembers,
    /// Request check 7: exactly the instructed ids.
    Ids,
    /// Request check 8: the body is at most 1 MiB.
    BodySize,
    /// At least one request (unless none is allowed), at most five.
    RequestsCount,
    /// No request after a definitive answer.
    NoRetryAfterFinal,
    /// Every retry carries the ids of the first request.
    SameIds,
    /// A local-validation instruction is refused without sending.
    LocalValidation,
    /// No request over TLS the client should not trust.
    TlsRefused,
    /// The outcome is one the last answer accepts.
    OutcomeKind,
    /// The outcome is a preferred one.
    OutcomePreferred,
    /// On `SUCCESS`, `paymentId` as served.
    OutcomePaymentId,
    /// On `SUCCESS`, `paymentRequestId` as served.
    OutcomePaymentRequestId,
    /// On `SUCCESS`, `cancelTime` the instant served, to the millisecond.
    CancelTime,
    /// On `SUCCESS`, `cancelTime` keeps every fraction digit served.
    CancelTimePrecision,
    /// On `FAILED`, the `resultCode` as served.
    ResultCode,
}

const REQUEST_CHECKS: &str = "docs/contract.md#request-checks";
const OUTCOME_RULES: &str = "docs/contract.md#outcome-rules";

impl CheckId {
    /// Every check, request checks first, each group in the contract's order.
    pub const ALL: [CheckId; 25] = [
        CheckId::Method,
        CheckId::Path,
        CheckId::ContentType,
        CheckId::Charset,
        CheckId::ClientId,
        CheckId::RequestTime,
        CheckId::RequestTimeSkew,
        CheckId::Signature,
        CheckId::SignatureEncoding,
        CheckId::Body,
        CheckId::UnknownMembers,
        CheckId::Ids,
        CheckId::BodySize,
        CheckId::RequestsCount,
        CheckId::NoRetryAfterFinal,
        CheckId::SameIds,
        CheckId::LocalValidation,
        CheckId::TlsRefused,
        CheckId::OutcomeKind,
        CheckId::OutcomePreferred,
        CheckId::OutcomePaymentId,
        CheckId::OutcomePaymentRequestId,
        CheckId::CancelTime,
        CheckId::CancelTimePrecision,
        CheckId::ResultCode,
    ];

    /// The check id as the contract's tables write it: `client-id`, `requests.count`.
    pub const fn name(self) -> &'static str {
        match self {
            CheckId::Method => "method",
            CheckId::Path => "path",
            CheckId::ContentType => "content-type",
            CheckId::Charset => "charset",
            CheckId::ClientId => "client-id",
            CheckId::RequestTime => "request-time",
            CheckId::RequestTimeSkew => "request-time-skew",
            CheckId::Signature => "signature",
            CheckId::SignatureEncoding => "signature-encoding",
            CheckId::Body => "body",
            CheckId::UnknownMembers => "unknown-members",
            CheckId::Ids => "ids",
            CheckId::BodySize => "body-size",
            CheckId::RequestsCount => "requests.count",
            CheckId::NoRetryAfterFinal => "requests.no-retry-after-final",
            CheckId::SameIds => "requests.same-ids",
            CheckId::LocalValidation => "requests.local-validation",
            CheckId::TlsRefused => "requests.tls-refused",
            CheckId::OutcomeKind => "outcome.kind",
            CheckId::OutcomePreferred => "outcome.preferred",
            CheckId::OutcomePaymentId => "outcome.paymentId",
            CheckId::OutcomePaymentRequestId => "outcome.paymentRequestId",
            CheckId::CancelTime => "outcome.cancelTime",
            CheckId::CancelTimePrecision => "outcome.cancelTime-precision",
            CheckId::ResultCode => "outcome.result-code",
        }
    }

    /// Whether it is made on each request (reported as `request[N].<name>`), not once per
    /// scenario.
    pub const fn is_request_check(self) -> bool {
        self.request_section().is_some()
    }

    /// The number of the request check in the contract's table and, for a second check under
    /// one number, the tag its anchor carries (`4 (clock)`).
    const fn request_section(self) -> Option<&'static str> {
        Some(match self {
            CheckId::Method | CheckId::Path => "1",
            CheckId::ContentType => "2",
            CheckId::Charset => "2 (charset)",
            CheckId::ClientId => "3",
            CheckId::RequestTime => "4",
            CheckId::RequestTimeSkew => "4 (clock)",
            CheckId::Signature => "5",
            CheckId::SignatureEncoding => "5 (encoding)",
            CheckId::Body => "6",
            CheckId::UnknownMembers => "6 (unknown fields)",
            CheckId::Ids => "7",
            CheckId::BodySize => "8",
            _ => return None,
        })
    }

    /// The id a report gives it: `request[n].<name>` for a request check (`n` numbers the
    /// requests of the scenario from 1), the name alone for an outcome rule (`n` unused).
    pub fn report_id(self, n: usize) -> String {
        if self.is_request_check() {
            format!("request[{n}].{}", self.name())
        } else {
            self.name().to_owned()
        }
    }

    /// The check a report id names, whatever request it numbers; `None` for an id that is not
    /// the contract's (`answer[1].body`, made by `proxy`).
    pub fn from_report_id(id: &str) -> Option<CheckId> {
        let (request, name) = match id.strip_prefix("request[") {
            Some(rest) => {
                let (n, name) = rest.split_once("].")?;
                if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (true, name)
            }
            None => (false, id),
        };
        CheckId::ALL
            .into_iter()
            .find(|c| c.is_request_check() == request && c.name() == name)
    }

    /// Its level, outside the cases [`Exception`] names.
    pub const fn level(self) -> Level {
        match self {
            CheckId::Charset
            | CheckId::RequestTimeSkew
            | CheckId::SignatureEncoding
            | CheckId::UnknownMembers
            | CheckId::LocalValidation
            | CheckId::OutcomePreferred
            | CheckId::CancelTimePrecision => Level::Should,
            _ => Level::Must,
        }
    }

    /// The anchor into the contract that reports print as the check's rule, outside the cases
    /// [`Exception`] names.
    pub fn rule(self) -> String {
        match (self.request_section(), self) {
            (Some(section), _) => format!("{REQUEST_CHECKS} {section}"),
            (None, CheckId::TlsRefused) => format!("{OUTCOME_RULES} (TLS)"),
            (None, CheckId::LocalValidation) => "docs/contract.md#local-validation".to_owned(),
            (None, _) => OUTCOME_RULES.to_owned(),
        }
    }

    /// The request check held, on request `n`.
    pub fn pass_on(self, n: usize, message: impl Into<String>) -> Check {
        debug_assert!(self.is_request_check(), "{self} is made once per scenario");
        Check::pass(&self.report_id(n), self.level(), &self.rule(), message)
    }

    /// The request check failed, on request `n`.
    pub fn fail_on(self, n: usize, failure: Failure) -> Check {
        debug_assert!(self.is_request_check(), "{self} is made once per scenario");
        self.failed(self.report_id(n), failure)
    }

    /// The request check on request `n` as its finding came out: held with its message, or
    /// failed.
    pub fn judged_on(self, n: usize, finding: Result<String, Failure>) -> Check {
        match finding {
            Ok(message) => self.pass_on(n, message),
            Err(failure) => self.fail_on(n, failure),
        }
    }

    /// The outcome rule held.
    pub fn pass(self, message: impl Into<String>) -> Check {
        debug_assert!(!self.is_request_check(), "{self} is made on each request");
        Check::pass(self.name(), self.level(), &self.rule(), message)
    }

    /// The outcome rule failed.
    pub fn fail(self, failure: Failure) -> Check {
        debug_assert!(!self.is_request_check(), "{self} is made on each request");
        self.failed(self.name().to_owned(), failure)
    }

    fn failed(self, id: String, failure: Failure) -> Check {
        Check {
            values: failure.values,
            ..Check::fail(
                &id,
                self.level(),
                &self.rule(),
                failure.message,
                failure.expected,
                failure.seen,
            )
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The cases in which the contract makes a check SHOULD that is otherwise MUST.
///
/// # Example
/// ```
/// use alipay_cancel_kit::contract::{CheckId, Exception, Level};
/// let check = CheckId::Path.pass_on(1, "path ok");
/// let lowered = Exception::SandboxPath.apply(check);
/// assert_eq!(lowered.level, Level::Should);
/// assert_eq!(lowered.rule, "docs/contract.md#request-checks 1 (sandbox)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exception {
    /// A `SANDBOX_` client id that calls the ordinary path: `path` is a SHOULD failure.
    SandboxPath,
    /// A local-validation scenario: a body that breaks check 6 is a SHOULD failure, since the
    /// client should have refused the instruction without sending.
    LocalValidation,
}

impl Exception {
    /// The check it lowers.
    pub const fn check(self) -> CheckId {
        match self {
            Exception::SandboxPath => CheckId::Path,
            Exception::LocalValidation => CheckId::Body,
        }
    }

    /// The level the check has in this case.
    pub const fn level(self) -> Level {
        Level::Should
    }

    /// The anchor the check cites in this case.
    pub fn rule(self) -> String {
        match self {
            Exception::SandboxPath => format!("{} (sandbox)", CheckId::Path.rule()),
            Exception::LocalValidation => CheckId::Body.rule(),
        }
    }

    /// The check with this case's level and anchor.
    pub fn apply(self, check: Check) -> Check {
        Check {
            level: self.level(),
            rule: self.rule(),
            ..check
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_ids_round_trip() {
        for id in CheckId::ALL {
            assert_eq!(CheckId::from_report_id(&id.report_id(7)), Some(id), "{id}");
        }
        assert_eq!(CheckId::from_report_id("request[].path"), None);
        assert_eq!(CheckId::from_report_id("request[1].requests.count"), None);
        assert_eq!(CheckId::from_report_id("path"), None);
    }

    #[test]
    fn exceptions_lower_their_check_only() {
        assert_eq!(Exception::SandboxPath.check().level(), Level::Must);
        assert_eq!(Exception::LocalValidation.check().level(), Level::Must);
        let body =
            Exception::LocalValidation.apply(CheckId::Body.fail_on(2, Failure::new("m", "e", "s")));
        assert_eq!(body.level, Level::Should);
        assert_eq!(body.rule, "docs/contract.md#request-checks 6");
        assert_eq!(body.id, "request[2].body");
        assert!(!body.held);
    }

    /// Every check's level is the one docs/contract.md's tables give it: the cell after the
    /// one that names the check (`| 2 | `charset` | SHOULD |`, `| `outcome.kind` | MUST |`).
    #[test]
    fn every_check_has_the_level_the_contract_gives_it() {
        let page = include_str!("../../docs/contract.md");
        for id in CheckId::ALL {
            let quoted = format!("`{}`", id.name());
            let levels: Vec<&str> = page
                .lines()
                .filter(|l| l.starts_with('|'))
                .flat_map(|row| {
                    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                    cells
                        .windows(2)
                        .filter(|w| w[0].split(", ").any(|name| name == quoted))
                        .map(|w| w[1])
                        .filter(|cell| matches!(*cell, "MUST" | "SHOULD" | "INFO"))
                        .collect::<Vec<_>>()
                })
                .collect();
            assert_eq!(levels, [id.level().as_str()], "{id}");
        }
        assert_eq!(
            [Level::Must, Level::Should, Level::Info].map(Level::as_str),
            ["MUST", "SHOULD", "INFO"]
        );
    }

    /// The report ids and anchors reports print, pinned for a request check, each of its
    /// second parts, and an outcome rule of each anchor.
    #[test]
    fn report_ids_and_rules() {
        let cases = [
            (
                CheckId::Path,
                "request[3].path",
                "docs/contract.md#request-checks 1",
            ),
            (
                CheckId::UnknownMembers,
                "request[3].unknown-members",
                "docs/contract.md#request-checks 6 (unknown fields)",
            ),
            (
                CheckId::BodySize,
                "request[3].body-size",
                "docs/contract.md#request-checks 8",
            ),
            (
                CheckId::TlsRefused,
                "requests.tls-refused",
                "docs/contract.md#outcome-rules (TLS)",
            ),
            (
                CheckId::LocalValidation,
                "requests.local-validation",
                "docs/contract.md#local-validation",
            ),
            (
                CheckId::OutcomeKind,
                "outcome.kind",
                "docs/contract.md#outcome-rules",
            ),
        ];
        for (id, report_id, rule) in cases {
            assert_eq!(
                (id.report_id(3).as_str(), id.rule().as_str()),
                (report_id, rule)
            );
            assert_eq!(id.to_string(), id.name());
        }
        assert_eq!(CheckId::from_report_id("request[x].path"), None);
        assert_eq!(
            CheckId::from_report_id("request[12].path"),
            Some(CheckId::Path)
        );
        assert_eq!(
            CheckId::from_report_id("requests.count"),
            Some(CheckId::RequestsCount)
        );
        let outcome = CheckId::ResultCode.fail(Failure::new("m", "e", "s"));
        assert_eq!(
            (outcome.id.as_str(), outcome.level, outcome.held),
            ("outcome.result-code", Level::Must, false)
        );
        let sandbox = Exception::SandboxPath.apply(CheckId::Path.pass_on(1, "ok"));
        assert_eq!(
            (sandbox.level, sandbox.rule.as_str(), sandbox.held),
            (
                Level::Should,
                "docs/contract.md#request-checks 1 (sandbox)",
                true
            )
        );
    }

    /// The heading slugs of a markdown page, as GitHub makes them.
    fn slugs(page: &str) -> Vec<String> {
        page.lines()
            .filter_map(|l| l.strip_prefix('#'))
            .map(|h| {
                h.trim_start_matches('#')
                    .trim()
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
                    .map(|c| if c == ' ' { '-' } else { c })
                    .collect()
            })
            .collect()
    }

    /// Every check id cites a heading of docs/contract.md that exists, and the page names the
    /// check: a request check in the row of its number in the request checks' table, an
    /// outcome rule in backticks.
    #[test]
    fn every_check_id_finds_its_anchor_in_the_contract() {
        let page = include_str!("../../docs/contract.md");
        let slugs = slugs(page);
        let mut rules: Vec<String> = CheckId::ALL.iter().map(|c| c.rule()).collect();
        rules.push(Exception::SandboxPath.rule());
        for rule in &rules {
            let anchor = rule.strip_prefix("docs/contract.md#").expect(rule);
            let slug = anchor.split(' ').next().unwrap();
            assert!(
                slugs.iter().any(|s| s == slug),
                "{rule}: no heading #{slug}"
            );
        }
        for id in CheckId::ALL {
            let quoted = format!("`{}`", id.name());
            match id.request_section() {
                Some(section) => {
                    let number = section.split(' ').next().unwrap();
                    let row = format!("| {number} | ");
                    assert!(
                        page.lines()
                            .any(|l| l.starts_with(&row) && l.contains(&quoted)),
                        "{id}: no row `{row}…{quoted}` in the request checks"
                    );
                }
                None => assert!(page.contains(&quoted), "{id}: {quoted} not in the contract"),
            }
        }
        assert!(page.contains("`1 (sandbox)`"));
    }
}
