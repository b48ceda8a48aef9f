//! The cancel loop: refuse locally what the gateway would refuse, sign, send, and call again
//! while the result stays open, up to [`MAX_ATTEMPTS`](super::MAX_ATTEMPTS) calls; each
//! [`Defect`](super::Defect) bends one step of it.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::protocol::{Instruction, Outcome, OutcomeKind};
use crate::signature::{self, SigningKey, VerifyingKey};
use crate::spec::endpoint::{self, header};
use crate::spec::CancelRequest;

use super::answer::{interpret, Attempt};
use super::transport::{client_tls, post};
use super::{Behaviour, Crash, Defect, MAX_ATTEMPTS};

/// Cancels as instructed and returns the outcome to surface.
///
/// # Errors
/// Only a [`Crash`], when a crash defect is switched on and triggered.
pub async fn cancel(instruction: &Instruction, behaviour: &Behaviour) -> Result<Outcome, Crash> {
    let has = |d| behaviour.has(d);
    // Refuse locally what the gateway would refuse: no request is better than a doomed one.
    // Once the fields pass, they are sent as given.
    if let Err(e) =
        CancelRequest::from_slice(&serde_json::to_vec(&instruction.request).unwrap_or_default())
    {
        if !has(Defect::NoLocalValidation) {
            return Ok(Outcome::bare(
                OutcomeKind::InvalidRequest,
                format!("refused locally: {e}"),
            ));
        }
    }
    if has(Defect::CountIdBytes) {
        if let Some(why) = too_many_bytes(&instruction.request) {
            return Ok(Outcome::bare(OutcomeKind::InvalidRequest, why));
        }
    }
    let (merchant, vendor) = match load_keys(&instruction.gateway) {
        Ok(keys) => keys,
        Err(e) => {
            return Ok(Outcome::bare(
                OutcomeKind::Unknown,
                format!("cannot load the keys: {e}"),
            ))
        }
    };
    let tls = match client_tls(instruction, has(Defect::NoCertificateCheck)) {
        Ok(t) => t,
        Err(e) => return Ok(Outcome::bare(OutcomeKind::Unknown, e.to_string())),
    };
    let client_id = &instruction.gateway.client_id;
    let path = endpoint::path_for(client_id);
    let mut last = Outcome::bare(OutcomeKind::Unknown, "no attempt made");
    let attempts = if has(Defect::RetryFailure) {
        MAX_ATTEMPTS.max(2)
    } else {
        MAX_ATTEMPTS
    };
    for attempt in 0..attempts {
        let fields = if attempt > 0 && has(Defect::RetryWithOtherIds) {
            first_field_only(&instruction.request)
        } else {
            instruction.request.clone()
        };
        let body = body_bytes(fields, has(Defect::NumberForString));
        let time = chrono::Utc::now().timestamp_millis().to_string();
        let signed_path = if has(Defect::WrongStringToSign) {
            path.trim_start_matches("/ams")
        } else {
            path
        };
        let sig = if has(Defect::RawBase64Signature) {
            signature::sign_base64(&merchant, signed_path, client_id, &time, &body)
        } else {
            signature::sign(&merchant, signed_path, client_id, &time, &body)
        };
        let body = if has(Defect::ReserializeAfterSigning) {
            reserialized(&body)
        } else {
            body
        };
        let mut headers = vec![
            (
                header::CONTENT_TYPE,
                "application/json; charset=UTF-8".to_owned(),
            ),
            (header::CLIENT_ID, client_id.clone()),
            (header::REQUEST_TIME, time),
        ];
        if !has(Defect::NoRequestSignature) {
            headers.push((
                header::SIGNATURE,
                signature::header_value(&instruction.gateway.key_version, &sig),
            ));
        }
        let timeout = Duration::from_millis(instruction.timeout_ms);
        let sent = post(
            &instruction.gateway.url,
            tls.as_ref(),
            path,
            &headers,
            body,
            timeout,
        )
        .await;
        let exchange = match sent {
            Err(e) => {
                let kind = if has(Defect::TransportErrorAsFailure) {
                    OutcomeKind::Failed
                } else {
                    OutcomeKind::Unknown
                };
                let mut o = Outcome::bare(kind, e.to_string());
                if kind == OutcomeKind::Failed {
                    o.result_code = Some("TRANSPORT_ERROR".into());
                    return Ok(o);
                }
                Attempt::Open(o)
            }
            Ok(response) => interpret(&response, path, client_id, &vendor, behaviour)?,
        };
        match exchange {
            Attempt::Final(outcome) => {
                if has(Defect::RetryFailure)
                    && outcome.outcome == OutcomeKind::Failed
                    && attempt == 0
                {
                    last = outcome;
                    continue;
                }
                return Ok(outcome);
            }
            Attempt::Open(outcome) => last = outcome,
        }
    }
    Ok(last)
}

/// Reads the instruction's keys, remembering the last pair: a run hands every scenario the
/// same keys, and checking an RSA private key costs more than using it.
fn load_keys(
    gateway: &crate::protocol::GatewayInfo,
) -> Result<(SigningKey, VerifyingKey), signature::SignatureError> {
    type Cached = (String, String, SigningKey, VerifyingKey);
    static LAST: std::sync::Mutex<Option<Cached>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((private, public, m, v)) = last.as_ref() {
        if *private == gateway.merchant_private_key && *public == gateway.alipay_public_key {
            return Ok((m.clone(), v.clone()));
        }
    }
    let merchant = SigningKey::from_base64_pkcs8(&gateway.merchant_private_key)?;
    let vendor = VerifyingKey::from_base64_spki(&gateway.alipay_public_key)?;
    *last = Some((
        gateway.merchant_private_key.clone(),
        gateway.alipay_public_key.clone(),
        merchant.clone(),
        vendor.clone(),
    ));
    Ok((merchant, vendor))
}

/// The [`Defect::CountIdBytes`] defect: an id of more than 64 bytes (the limit is 64
/// characters) refused as too long.
fn too_many_bytes(request: &Map<String, Value>) -> Option<String> {
    request.iter().find_map(|(member, value)| {
        let id = value.as_str()?;
        (id.len() > 64).then(|| {
            format!(
                "refused locally: {member}: expected at most 64 characters, found {}",
                id.len()
            )
        })
    })
}

/// The [`Defect::ReserializeAfterSigning`] defect: the same JSON object written again with a
/// space after each `:` and `,` (as Python's `json.dumps` writes by default).
fn reserialized(body: &[u8]) -> Vec<u8> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    let members: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}: {v}", Value::String(k.clone())))
        .collect();
    format!("{{{}}}", members.join(", ")).into_bytes()
}

fn first_field_only(request: &Map<String, Value>) -> Map<String, Value> {
    request
        .iter()
        .take(1)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn body_bytes(mut fields: Map<String, Value>, numbers: bool) -> Vec<u8> {
    if numbers {
        for value in fields.values_mut() {
            if let Some(n) = value.as_str().and_then(|s| s.parse::<u128>().ok()) {
                // Written as a bare JSON number: the bug under test.
                *value = serde_json::from_str(&n.to_string()).unwrap_or(Value::Null);
            }
        }
    }
    serde_json::to_vec(&fields).unwrap_or_default()
}
