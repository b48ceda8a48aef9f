//! The rules every scenario of the catalogue keeps, checked when it loads, so a typo in the
//! data is caught then; [`ScenarioError`] names the rule broken, the scenario and the field.

use std::fmt;

use serde_json::{Map, Value};

use crate::capability::IdKind;
use crate::protocol::OutcomeKind;
use crate::spec::ResultStatus;

use super::Scenario;

/// A scenario, or the `perResultStatus` template it is made from, breaks a rule of the
/// catalogue (`docs/catalogue.md`); a [`CatalogueError`](super::CatalogueError) names the file around it. Each
/// variant names the scenario and the field (`answers[1].accept`, `requestAlternatives[0]`).
#[derive(Debug)]
#[non_exhaustive]
pub enum ScenarioError {
    /// `perResultStatus` lacks the template for a status of the result-code table.
    NoTemplate {
        /// The status without a template.
        status: ResultStatus,
    },
    /// A `perResultStatus` template, filled in, is not a scenario.
    Template {
        /// The template's status.
        status: ResultStatus,
        /// Why it is not a scenario.
        source: serde_json::Error,
    },
    /// The id does not start with the group's name and a `/`.
    OutsideGroup {
        /// The scenario.
        id: String,
        /// The group of its file.
        group: String,
    },
    /// `answers` is empty.
    NoAnswers {
        /// The scenario.
        id: String,
    },
    /// `answers[answer].accept` is empty.
    EmptyAccept {
        /// The scenario.
        id: String,
        /// The answer's index.
        answer: usize,
    },
    /// `answers[answer].prefer` names an outcome its `accept` lacks.
    PreferNotAccepted {
        /// The scenario.
        id: String,
        /// The answer's index.
        answer: usize,
        /// The outcome preferred but not accepted.
        prefer: OutcomeKind,
    },
    /// `answers[answer]` has both `body` and `rawBody`.
    BodyAndRawBody {
        /// The scenario.
        id: String,
        /// The answer's index.
        answer: usize,
    },
    /// `timeoutMs` is 0.
    ZeroTimeout {
        /// The scenario.
        id: String,
    },
    /// `requestAlternatives[alternative]` names none of the ids.
    AlternativeWithoutIds {
        /// The scenario.
        id: String,
        /// The alternative's index.
        alternative: usize,
    },
    /// `requestAlternatives[alternative]` names the same ids as `request` or an earlier
    /// alternative, so it is never chosen.
    AlternativeRepeatsIds {
        /// The scenario.
        id: String,
        /// The alternative's index.
        alternative: usize,
    },
    /// `requestAlternatives[alternative]` differs from `request` in more than its ids.
    AlternativeChangesMore {
        /// The scenario.
        id: String,
        /// The alternative's index.
        alternative: usize,
    },
    /// An answer serves an id other than the one `requestAlternatives[alternative]` sends.
    AlternativeNotEchoed {
        /// The scenario.
        id: String,
        /// The alternative's index.
        alternative: usize,
        /// The id's member.
        member: String,
        /// Its value in the alternative, as JSON text.
        value: String,
        /// The index of the answer that serves another value.
        answer: usize,
        /// The value served, as JSON text.
        served: String,
    },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ScenarioError as E;
        let at = |id: &str, alternative: &usize| {
            format!("scenario `{id}`: requestAlternatives[{alternative}]")
        };
        match self {
            E::NoTemplate { status } => {
                write!(f, "perResultStatus: no template for status `{}`", status.as_str())
            }
            E::Template { status, source } => {
                write!(f, "perResultStatus.{}: {source}", status.as_str())
            }
            E::OutsideGroup { id, group } => {
                write!(f, "scenario `{id}`: id must start with `{group}/`")
            }
            E::NoAnswers { id } => write!(f, "scenario `{id}`: `answers` must not be empty"),
            E::EmptyAccept { id, answer } => {
                write!(f, "scenario `{id}`: answers[{answer}].accept must not be empty")
            }
            E::PreferNotAccepted { id, answer, prefer } => write!(
                f,
                "scenario `{id}`: answers[{answer}].prefer names {prefer}, which `accept` does not"
            ),
            E::BodyAndRawBody { id, answer } => write!(
                f,
                "scenario `{id}`: answers[{answer}] has both `body` and `rawBody`"
            ),
            E::ZeroTimeout { id } => write!(f, "scenario `{id}`: `timeoutMs` must be positive"),
            E::AlternativeWithoutIds { id, alternative } => write!(
                f,
                "{} names no id (paymentId, paymentRequestId or merchantAccountId)",
                at(id, alternative)
            ),
            E::AlternativeRepeatsIds { id, alternative } => write!(
                f,
                "{} names the same ids as `request` or an earlier alternative, so it is never chosen",
                at(id, alternative)
            ),
            E::AlternativeChangesMore { id, alternative } => write!(
                f,
                "{} must differ from `request` in its ids only (paymentId, paymentRequestId, merchantAccountId)",
                at(id, alternative)
            ),
            E::AlternativeNotEchoed {
                id,
                alternative,
                member,
                value,
                answer,
                served,
            } => write!(
                f,
                "{}.{member} is {value}, but answers[{answer}] serves {served}: the answers must echo the ids sent",
                at(id, alternative)
            ),
        }
    }
}

impl std::error::Error for ScenarioError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScenarioError::Template { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Rules every scenario keeps, so a typo in the data is caught when the catalogue loads.
pub(super) fn check_scenario(s: &Scenario, group: &str) -> Result<(), ScenarioError> {
    let id = || s.id.clone();
    if !s.id.starts_with(&format!("{group}/")) {
        return Err(ScenarioError::OutsideGroup {
            id: id(),
            group: group.to_owned(),
        });
    }
    if s.answers.is_empty() {
        return Err(ScenarioError::NoAnswers { id: id() });
    }
    for (answer, a) in s.answers.iter().enumerate() {
        if a.accept.is_empty() {
            return Err(ScenarioError::EmptyAccept { id: id(), answer });
        }
        if let Some(&prefer) = a.prefer.iter().find(|p| !a.accept.contains(p)) {
            return Err(ScenarioError::PreferNotAccepted {
                id: id(),
                answer,
                prefer,
            });
        }
        if a.body.is_some() && a.raw_body.is_some() {
            return Err(ScenarioError::BodyAndRawBody { id: id(), answer });
        }
    }
    if s.timeout_ms == 0 {
        return Err(ScenarioError::ZeroTimeout { id: id() });
    }
    check_alternatives(s)
}

/// Rules of `requestAlternatives`: each names the same payment by other ids, and nothing else
/// changes, so every form checks the same thing and the answers echo whichever is sent.
fn check_alternatives(s: &Scenario) -> Result<(), ScenarioError> {
    let id = || s.id.clone();
    let kinds = |form: &Map<String, Value>| -> Vec<IdKind> {
        IdKind::ALL
            .into_iter()
            .filter(|k| form.contains_key(k.member()))
            .collect()
    };
    let mut seen = vec![kinds(&s.request)];
    for (alternative, form) in s.request_alternatives.iter().enumerate() {
        let form_kinds = kinds(form);
        if form_kinds.is_empty() {
            return Err(ScenarioError::AlternativeWithoutIds {
                id: id(),
                alternative,
            });
        }
        if seen.contains(&form_kinds) {
            return Err(ScenarioError::AlternativeRepeatsIds {
                id: id(),
                alternative,
            });
        }
        seen.push(form_kinds);
        let others = |m: &Map<String, Value>| -> Map<String, Value> {
            m.iter()
                .filter(|(k, _)| IdKind::of_member(k).is_none())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        if others(form) != others(&s.request) {
            return Err(ScenarioError::AlternativeChangesMore {
                id: id(),
                alternative,
            });
        }
        for (member, value) in form.iter().filter(|(k, _)| IdKind::of_member(k).is_some()) {
            let echoed = s.answers.iter().enumerate().find_map(|(n, a)| {
                let served = a.body.as_ref()?.get(member)?;
                (served.is_string() && served != value).then_some((n, served))
            });
            if let Some((answer, served)) = echoed {
                return Err(ScenarioError::AlternativeNotEchoed {
                    id: id(),
                    alternative,
                    member: member.clone(),
                    value: value.to_string(),
                    answer,
                    served: served.to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Catalogue;

    #[test]
    fn a_broken_scenario_is_refused_with_the_rule_and_the_field_it_breaks() {
        let catalogue = Catalogue::embedded().unwrap();
        let mut s = catalogue.scenarios()[0].clone();
        let group = s.id.split('/').next().unwrap().to_owned();
        assert!(check_scenario(&s, &group).is_ok());
        s.answers[0].accept = vec![OutcomeKind::Unknown];
        s.answers[0].prefer = vec![OutcomeKind::Failed];
        let err = check_scenario(&s, &group).unwrap_err();
        assert!(
            matches!(
                &err,
                ScenarioError::PreferNotAccepted {
                    answer: 0,
                    prefer: OutcomeKind::Failed,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "scenario `{}`: answers[0].prefer names FAILED, which `accept` does not",
                s.id
            )
        );
    }
}
