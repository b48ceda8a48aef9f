//! Response bodies: a row of the result-code table or an unknown code, with its status,
//! message, optional ids and `cancelTime`, and unknown members, in any order.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::string::{string_regex, RegexGeneratorStrategy};
use serde_json::{Map, Number, Value};

use crate::spec::endpoint::member;
use crate::spec::{result_code_table, CancelResponse, ResultStatus};

use super::{cancel_time, id_text, maybe, message_char, text};

/// The members of a response body the spec defines, at either level; generated unknown
/// members never take one of these names (in any case).
const KNOWN_MEMBERS: [&str; 7] = [
    "result",
    member::PAYMENT_ID,
    member::PAYMENT_REQUEST_ID,
    member::CANCEL_TIME,
    "resultCode",
    "resultStatus",
    "resultMessage",
];

/// Codes the vendor uses across its APIs that the cancel table lacks (docs/api.md#result-and-error-codes): an open set.
const CODES_FROM_OTHER_APIS: [&str; 6] = [
    "CLIENT_INVALID",
    "INVALID_CLIENT",
    "INVALID_SIGNATURE",
    "METHOD_NOT_SUPPORTED",
    "MEDIA_TYPE_NOT_ACCEPTABLE",
    "REPEAT_REQ_INCONSISTENT",
];

/// A result code with its status: a row of the result-code table, or a code the table lacks
/// (from the vendor's other APIs, or made up, up to 64 characters) with any status. With
/// `status`, only codes with that status.
pub fn result_code(status: Option<ResultStatus>) -> BoxedStrategy<(String, ResultStatus)> {
    let rows: Vec<(String, ResultStatus)> = result_code_table()
        .iter()
        .filter(|r| status.is_none_or(|s| r.result_status == s))
        .map(|r| (r.result_code.clone(), r.result_status))
        .collect();
    let statuses = status.map_or_else(|| ResultStatus::ALL.to_vec(), |s| vec![s]);
    prop_oneof![
        3 => select(rows),
        1 => (unknown_code(), select(statuses)),
    ]
    .boxed()
}

/// A result code the table lacks: one of the vendor's other APIs, or made up (1..64 characters).
pub fn unknown_code() -> BoxedStrategy<String> {
    let known = |c: &String| !result_code_table().iter().any(|r| &r.result_code == c);
    // Regexes parsed once here: a `&str` strategy parses its regex again at every draw (and
    // draws the same).
    prop_oneof![
        2 => regex("[A-Z][A-Z0-9_]{0,30}"),
        1 => select(CODES_FROM_OTHER_APIS.to_vec()).prop_map(str::to_owned),
        1 => regex("[A-Z][A-Z_]{63}"),
    ]
    .prop_filter("a code of the table", known)
    .boxed()
}

/// A `resultMessage` text of 0..256 characters of any script (256 weighted), or a message of
/// the table (Chinese, as the seed has them).
pub fn result_message() -> BoxedStrategy<String> {
    let table: Vec<String> = result_code_table()
        .iter()
        .map(|r| r.message.clone())
        .collect();
    prop_oneof![
        4 => text(message_char(), 0, 64, 'a'),
        2 => text(message_char(), 0, 256, 'a'),
        1 => select(table),
    ]
    .boxed()
}

/// `resultMessage` as a body has it: a text, or (rarely) `null`.
fn message_value() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => result_message().prop_map(Value::String),
        1 => Just(Value::Null),
    ]
    .boxed()
}

/// The strategy of `pattern`, parsed once: it draws what `pattern` as a `&str` strategy draws.
fn regex(pattern: &str) -> RegexGeneratorStrategy<String> {
    string_regex(pattern).expect("a valid regex")
}

fn member_name() -> BoxedStrategy<String> {
    regex("[a-z][A-Za-z0-9_]{0,15}")
        .prop_filter("a member the spec defines", |n: &String| {
            !KNOWN_MEMBERS.iter().any(|k| k.eq_ignore_ascii_case(n))
        })
        .boxed()
}

/// Any JSON value, nested up to three levels: what an unknown member may hold.
pub fn unknown_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        (-1.0e12f64..1.0e12).prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        // A character of these strings shrinks within the script range (or selection) it was
        // drawn from, no longer to an earlier option of message_char's union (see Chars); what
        // a seed draws is unchanged.
        vec(message_char(), 0..16).prop_map(|c| Value::String(c.into_iter().collect())),
    ];
    // prop_recursive calls its closure at every draw: the names' regex is parsed here, once.
    let name = member_name();
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((name.clone(), inner), 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// None to three members the spec does not define, with any values (none two times in three).
pub fn unknown_members() -> BoxedStrategy<Vec<(String, Value)>> {
    maybe(0.35, vec((member_name(), unknown_value()), 1..=3))
        .prop_map(Option::unwrap_or_default)
        .boxed()
}

/// Sort keys that put members in any order; `None` (where shrinking goes first) is the
/// spec's order.
fn member_order() -> BoxedStrategy<Vec<u8>> {
    maybe(0.5, vec(any::<u8>(), 8))
        .prop_map(Option::unwrap_or_default)
        .boxed()
}

fn ordered(members: Vec<(String, Value)>, order: &[u8]) -> Map<String, Value> {
    let mut keyed: Vec<(u8, usize, String, Value)> = Vec::new();
    for (i, (k, v)) in members.into_iter().enumerate() {
        if keyed
            .iter()
            .any(|(_, _, seen, _)| seen.eq_ignore_ascii_case(&k))
        {
            continue;
        }
        keyed.push((order.get(i).copied().unwrap_or(0), i, k, v));
    }
    keyed.sort_by_key(|(key, i, _, _)| (*key, *i));
    keyed.into_iter().map(|(_, _, k, v)| (k, v)).collect()
}

/// Members as drawn: names and values, in the spec's order.
type Members = Vec<(String, Value)>;

/// A body from its parts: `result` (code, message, unknown members, their order), then the
/// top-level members (the success ones, unknown ones), in `order`.
fn assemble(
    (code, status): (String, ResultStatus),
    message: Option<Value>,
    (result_extra, result_order): (Members, Vec<u8>),
    (members, extra): (Members, Members),
    order: &[u8],
) -> Value {
    let mut result = vec![
        ("resultCode".to_owned(), Value::String(code)),
        (
            "resultStatus".to_owned(),
            Value::String(status.as_str().to_owned()),
        ),
    ];
    if let Some(message) = message {
        result.push(("resultMessage".to_owned(), message));
    }
    result.extend(result_extra);
    let mut top = vec![(
        "result".to_owned(),
        Value::Object(ordered(result, &result_order)),
    )];
    top.extend(members);
    top.extend(extra);
    Value::Object(ordered(top, order))
}

/// A valid cancel response body: a result code of the table with its status or an unknown
/// code (with `status` when given, else any status), a message absent, `null` or up to 256
/// characters of any script, `paymentId`, `paymentRequestId` and `cancelTime` on `S` (and
/// absent, `null` or present otherwise), unknown members at any depth, members in any order.
///
/// Shrinking goes from the structure (unknown members, order, message, optional members) to
/// the texts, so a shrunk body keeps only what the failure needs.
pub fn response_body(status: Option<ResultStatus>) -> BoxedStrategy<Value> {
    let Some(status) = status else {
        return prop_oneof![
            response_body(Some(ResultStatus::S)),
            response_body(Some(ResultStatus::F)),
            response_body(Some(ResultStatus::U)),
        ]
        .boxed();
    };
    // Returned when resultStatus is S (seed); otherwise absent, null or, rarely, present.
    let members = if status == ResultStatus::S {
        (id_text(64), id_text(64), cancel_time())
            .prop_map(|(p, r, t)| {
                vec![
                    (member::PAYMENT_ID.to_owned(), Value::String(p)),
                    (member::PAYMENT_REQUEST_ID.to_owned(), Value::String(r)),
                    (member::CANCEL_TIME.to_owned(), Value::String(t)),
                ]
            })
            .boxed()
    } else {
        let optional = |s: BoxedStrategy<String>| {
            maybe(
                0.35,
                prop_oneof![2 => s.prop_map(Value::String), 1 => Just(Value::Null)],
            )
        };
        (
            optional(id_text(64)),
            optional(id_text(64)),
            optional(cancel_time()),
        )
            .prop_map(|(p, r, t)| {
                [
                    (member::PAYMENT_ID, p),
                    (member::PAYMENT_REQUEST_ID, r),
                    (member::CANCEL_TIME, t),
                ]
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
                .collect()
            })
            .boxed()
    };
    (
        (unknown_members(), unknown_members()),
        (member_order(), member_order()),
        maybe(0.85, message_value()),
        result_code(Some(status)),
        members,
    )
        .prop_map(
            |((result_extra, extra), (result_order, order), message, code, members)| {
                assemble(
                    code,
                    message,
                    (result_extra, result_order),
                    (members, extra),
                    &order,
                )
            },
        )
        .boxed()
}

/// Whether a generated body is what the strategies promise: the response schema and the
/// Rust types both accept it. Used by the tests; public so adapters' authors can check their
/// own generators the same way.
pub fn body_is_valid(body: &Value) -> bool {
    crate::schema::Schema::Response.is_valid(body)
        && CancelResponse::from_slice(&serde_json::to_vec(body).unwrap_or_default()).is_ok()
}
