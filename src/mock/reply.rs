//! [`Reply`], the responder: the gateway's scripted answers, signed as the gateway signs them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use wiremock::ResponseTemplate;

use super::{gateway_keys, recorded, template, MockError};
use crate::contract::answer::scripted_accepts;
use crate::gateway::answer::{self, Served};
use crate::gateway::GatewayKeys;
use crate::scenario::{Answer, Catalogue, Scenario, Signing, Transport};
use crate::spec::result_code_table;

/// A [`wiremock::Respond`] that plays a scenario's scripted answers in order, the last one
/// repeating, each signed by [`crate::gateway::answer::render`] exactly as `run`'s gateway
/// signs it: `client-id` (the request's), `response-time`, and
/// `signature: algorithm=RSA256,keyVersion=1,signature=<URL-encoded base64>` over
/// `POST <request path>\n<client id>.<response-time>.<body>` by the vendor's test key
/// ([`keys::vendor_public`](super::keys::vendor_public) verifies it). A scenario whose script
/// breaks the signature (`signature/…`) is played broken, as scripted.
///
/// The outcomes a correct client may surface after each answer are in [`Reply::answers`]
/// (`accept`, `prefer`), as the catalogue states them.
///
/// # Example
/// ```
/// use alipay_cancel_kit::mock::{MockError, Reply};
/// use alipay_cancel_kit::protocol::OutcomeKind;
/// use alipay_cancel_kit::scenario::Signing;
/// let reply = Reply::result_code("UNKNOWN_EXCEPTION")?;
/// assert_eq!(reply.answers()[0].accept, [OutcomeKind::Unknown]);
/// let unsigned = Reply::result_code("SUCCESS")?.signing(Signing::Unsigned);
/// assert_eq!(unsigned.answers()[0].accept, [OutcomeKind::Unknown]);
/// assert_eq!(
///     Reply::scenario("fault/connection-closed").unwrap_err(),
///     MockError::Unplayable { id: "fault/connection-closed".into(), needs: "a fault below HTTP" }
/// );
/// # Ok::<(), MockError>(())
/// ```
pub struct Reply {
    answers: Vec<Answer>,
    /// The scenario's `timeoutMs`: an answer delayed past it accepts `UNKNOWN`.
    timeout_ms: u64,
    keys: GatewayKeys,
    /// How many requests were answered: the index of the next answer, capped at the last.
    served: AtomicUsize,
}

impl Reply {
    /// The answer of a row of the result-code table (`schema/result-codes.json`), as the
    /// catalogue's `result/<code>` scenario scripts it: a signed `S` carrying `paymentId`,
    /// `paymentRequestId` and `cancelTime`, or a signed `F` or `U` with the row's code and
    /// message.
    ///
    /// # Errors
    /// [`MockError::UnknownResultCode`] for a code the table lacks.
    pub fn result_code(code: &str) -> Result<Reply, MockError> {
        if !result_code_table()
            .iter()
            .any(|row| row.result_code == code)
        {
            return Err(MockError::UnknownResultCode {
                code: code.to_owned(),
            });
        }
        Reply::scenario(&format!("result/{code}"))
    }

    /// The scripted answers of a scenario of the embedded catalogue (`docs/scenarios.md`).
    ///
    /// # Errors
    /// [`MockError::UnknownScenario`] for an id the catalogue lacks;
    /// [`MockError::Unplayable`] for a TLS scenario, or one with a fault below HTTP.
    pub fn scenario(id: &str) -> Result<Reply, MockError> {
        let scenario = catalogue()
            .get(id)
            .ok_or_else(|| MockError::UnknownScenario { id: id.to_owned() })?;
        if let Some(needs) = unplayable(scenario) {
            return Err(MockError::Unplayable {
                id: id.to_owned(),
                needs,
            });
        }
        Ok(Reply {
            answers: scenario.answers.clone(),
            timeout_ms: scenario.timeout_ms,
            keys: gateway_keys(),
            served: AtomicUsize::new(0),
        })
    }

    /// Every answer signed (or not) by `signing` instead of its script: [`Signing::Unsigned`],
    /// [`Signing::OtherKey`], [`Signing::Tampered`] and the rest. The outcomes each answer
    /// accepts are restated by the contract's classes of answer
    /// ([`crate::contract::answer::scripted_accepts`]), so [`Reply::answers`] stays true.
    pub fn signing(mut self, signing: Signing) -> Reply {
        for answer in &mut self.answers {
            answer.signing = signing;
            (answer.accept, answer.prefer) =
                scripted_accepts(answer, self.timeout_ms, Transport::Plain);
        }
        self
    }

    /// The answers in the order they are served (the last repeats), with the outcomes a
    /// correct client may surface after each.
    pub fn answers(&self) -> &[Answer] {
        &self.answers
    }

    /// How long the scenario tells a client to wait for one answer (its `timeoutMs`): a
    /// delayed answer is late against this.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys are the committed test keys; their Debug would say nothing more.
        f.debug_struct("Reply")
            .field("answers", &self.answers)
            .field("timeout_ms", &self.timeout_ms)
            .field("served", &self.served)
            .finish_non_exhaustive()
    }
}

impl wiremock::Respond for Reply {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let n = self.served.fetch_add(1, Ordering::Relaxed);
        let index = n.min(self.answers.len() - 1);
        let served = Served::scripted(index, self.answers[index].clone());
        template(answer::render(&served, &recorded(request), &self.keys))
    }
}

/// The embedded catalogue, loaded once.
fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| Catalogue::embedded().expect("the embedded catalogue loads"))
}

/// What a scenario needs beyond an HTTP answer, if anything.
fn unplayable(scenario: &Scenario) -> Option<&'static str> {
    if scenario.transport != Transport::Plain {
        return Some("a TLS listener");
    }
    scenario
        .answers
        .iter()
        .any(|a| a.fault.is_some())
        .then_some("a fault below HTTP")
}
