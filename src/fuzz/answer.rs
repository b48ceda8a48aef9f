//! Signed answers, the ones a client cannot use, and answer sequences within the retry rules.

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;

use crate::contract;
use crate::protocol::OutcomeKind;
use crate::scenario::{Answer, Fault, Signing};
use crate::spec::ResultStatus;

use super::{maybe, response_body, Timing};

pub(super) fn status_of(body: &Value) -> ResultStatus {
    crate::scenario::served_status(body).unwrap_or(ResultStatus::U)
}

/// What a client must surface when this answer, served at once, is the last it got: the
/// contract's word for its class.
fn contract_accepts(answer: &Answer) -> Vec<OutcomeKind> {
    let (class, status) = contract::answer::scripted_class(answer);
    class.accepts(status)
}

/// A correct signing policy: the plain one mostly, sometimes with lower-case percent
/// escapes (.NET) or spaces after the commas (the docs' example).
pub fn signing() -> BoxedStrategy<Signing> {
    prop_oneof![
        6 => Just(Signing::Signed),
        1 => Just(Signing::SignedLowercaseEscapes),
        1 => Just(Signing::SignedSpaced),
    ]
    .boxed()
}

/// A correctly signed HTTP 200 answer with a [`response_body`], answered at once, with the
/// outcome the contract requires for it.
pub fn answer(status: Option<ResultStatus>) -> BoxedStrategy<Answer> {
    (response_body(status), signing())
        .prop_map(|(body, signing)| {
            let mut answer = Answer {
                status: 200,
                body: Some(body),
                raw_body: None,
                signing,
                delay_ms: 0,
                fault: None,
                accept: Vec::new(),
                prefer: Vec::new(),
            };
            answer.accept = contract_accepts(&answer);
            answer
        })
        .boxed()
}

/// An answer delayed past the instruction's timeout: a client that gave up sees no answer
/// (`UNKNOWN`, preferred); one that waited may surface the answer itself, as the catalogue's
/// `retry/timeout-then-success` allows.
pub fn delayed(mut answer: Answer, delay_ms: u64) -> Answer {
    answer.delay_ms = delay_ms;
    (answer.accept, answer.prefer) = contract::answer::late(&answer.accept);
    answer
}

/// An answer no client may believe, so it must surface `UNKNOWN` (and may call again): a
/// signature made over another body or with another key, or sent as raw base64; a success
/// or unknown answer without signature; an HTTP error status; the connection closed before
/// any response, or the body cut short. An unsigned `F` may also be surfaced as `FAILED`.
pub fn unusable_answer() -> BoxedStrategy<Answer> {
    let bad_signature = prop_oneof![
        Just(Signing::Tampered),
        Just(Signing::OtherKey),
        Just(Signing::RawBase64Tampered),
        Just(Signing::EmptySignature),
    ];
    prop_oneof![
        (answer(None), bad_signature).prop_map(|(mut a, signing)| {
            a.signing = signing;
            a.accept = contract_accepts(&a);
            a
        }),
        answer(None).prop_map(|mut a| {
            a.signing = Signing::Unsigned;
            a.accept = contract_accepts(&a);
            a
        }),
        (
            answer(None),
            prop_oneof![Just(500u16), Just(502), Just(429)]
        )
            .prop_map(|(mut a, status)| {
                a.status = status;
                a.accept = contract_accepts(&a);
                a
            }),
        (
            answer(None),
            prop_oneof![Just(Fault::CloseBeforeResponse), Just(Fault::TruncateBody)]
        )
            .prop_map(|(mut a, fault)| {
                a.fault = Some(fault);
                a.accept = contract_accepts(&a);
                a
            }),
    ]
    .boxed()
}

/// The gateway's answers for one case, within the retry rules (at most 4, so a client calling
/// up to 5 times reaches the last): none to three answers that leave the result open (`U`,
/// an [`unusable_answer`], or, rarely, any answer delayed past the timeout), then a final
/// `S`, `F` or `U`.
/// So: S; F; U; U then S; U then F; timeout then S; and longer mixes.
pub fn answer_sequence(timing: Timing) -> BoxedStrategy<Vec<Answer>> {
    let open = prop_oneof![
        12 => answer(Some(ResultStatus::U)),
        1 => answer(None).prop_map(move |a| delayed(a, timing.delay_ms)),
        4 => unusable_answer(),
    ];
    let prefix = maybe(0.4, vec(open, 1..=3)).prop_map(Option::unwrap_or_default);
    let last = prop_oneof![
        3 => answer(Some(ResultStatus::S)),
        3 => answer(Some(ResultStatus::F)),
        1 => answer(Some(ResultStatus::U)),
    ];
    (prefix, last)
        .prop_map(|(mut answers, last)| {
            answers.push(last);
            answers
        })
        .boxed()
}
