//! The two oracles agree: for generated JSON values around every boundary, the JSON
//! Schemas and the Rust types accept exactly the same bodies, and the rules the types name
//! are among those the schema names.

use std::collections::BTreeSet;

use alipay_cancel_kit::protocol::{Outcome, OutcomeKind};
use alipay_cancel_kit::schema::Schema;
use alipay_cancel_kit::spec::{
    result_code_table, CancelRequest, CancelResponse, CancelTime, ResultCode, Rule,
};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};

/// Characters of every UTF-8 width: lengths are code points, not bytes.
fn text_char() -> BoxedStrategy<char> {
    prop_oneof![
        Just('a'),
        Just('Z'),
        Just('0'),
        Just('é'),
        Just('订'),
        Just('😀'),
        Just(' ')
    ]
    .boxed()
}

/// Strings whose lengths sit on and around `limits`.
fn string_around(limits: &'static [usize]) -> BoxedStrategy<String> {
    let lengths: Vec<usize> = limits
        .iter()
        .flat_map(|&l| [l.saturating_sub(1), l, l + 1])
        .chain([0, 1])
        .collect();
    (proptest::sample::select(lengths), text_char(), text_char())
        .prop_map(|(len, a, b)| (0..len).map(|i| if i % 3 == 0 { b } else { a }).collect())
        .boxed()
}

/// Everything that is not a string: what the wire rule forbids in a string's place.
fn non_string() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!(20)),
        Just(json!(-1.5)),
        Just(json!(true)),
        Just(json!(false)),
        Just(json!([])),
        Just(json!(["a"])),
        Just(json!({})),
        Just(json!({"paymentId": "x"})),
    ]
    .boxed()
}

/// One optional member: absent (`None`), null, a string around the limits, or another type.
fn member(limits: &'static [usize]) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(Value::Null)),
        8 => string_around(limits).prop_map(|s| Some(Value::String(s))),
        1 => non_string().prop_map(Some),
    ]
    .boxed()
}

fn insert(object: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(value) = value {
        object.insert(name.to_owned(), value);
    }
}

fn extra_members() -> BoxedStrategy<Vec<(String, Value)>> {
    proptest::collection::vec(
        (
            prop_oneof![
                Just("amount"),
                Just("x/y~z"),
                Just(""),
                Just("PaymentId"),
                Just("resultCode")
            ],
            prop_oneof![
                Just(json!("20")),
                Just(json!(1)),
                Just(Value::Null),
                Just(json!({"a": []}))
            ],
        )
            .prop_map(|(k, v)| (k.to_owned(), v)),
        0..2,
    )
    .boxed()
}

fn request_body() -> BoxedStrategy<Value> {
    let object = (member(&[64]), member(&[64]), member(&[32]), extra_members()).prop_map(
        |(payment_id, payment_request_id, merchant, extra)| {
            let mut body = Map::new();
            insert(&mut body, "paymentId", payment_id);
            insert(&mut body, "paymentRequestId", payment_request_id);
            insert(&mut body, "merchantAccountId", merchant);
            for (k, v) in extra {
                body.insert(k, v);
            }
            Value::Object(body)
        },
    );
    prop_oneof![
        10 => object,
        1 => non_string(),
        1 => string_around(&[1]).prop_map(Value::String),
        1 => Just(Value::Null),
    ]
    .boxed()
}

/// Timestamps in and out of RFC 3339, built from parts with the usual mistakes.
/// Timestamps in and out of RFC 3339: a valid one with one part swapped for any value of
/// that part, valid or a usual mistake (space for `T`, `+0800`, no offset, 24:00, ...).
fn timestamp() -> BoxedStrategy<String> {
    // Per part: the values that are always valid, then the rest.
    const PARTS: [(&[&str], &[&str]); 9] = [
        (
            &["2019", "2020", "2016", "0000", "1900", "2000"],
            &["19", "２０19", "20190"],
        ),
        (&["06", "02", "12"], &["00", "13", "6"]),
        (&["12", "28"], &["29", "30", "31", "00", "32"]),
        (&["T", "t"], &[" ", "", "_"]),
        (&["19", "00", "23", "08"], &["24", "9"]),
        (&["07", "59", "00"], &["60"]),
        (&["11", "59", "00"], &["60", "61"]),
        (&["", ".5", ".123456789", ".1234567890123"], &[".", ",5"]),
        (
            &[
                "+08:00", "Z", "z", "-03:30", "+05:45", "+23:59", "-00:00", "+01:00", "-01:00",
                "+09:00",
            ],
            &[
                "+0800", "+08", "", " UTC", "+24:00", "+08:60", " +08:00", "ZZ", "Z\n",
            ],
        ),
    ];
    let valid: Vec<BoxedStrategy<&'static str>> = PARTS
        .iter()
        .map(|(ok, _)| proptest::sample::select(*ok).boxed())
        .collect();
    let any: Vec<BoxedStrategy<&'static str>> = PARTS
        .iter()
        .map(|(ok, bad)| proptest::sample::select([*ok, *bad].concat()).boxed())
        .collect();
    (valid, any, 0..=PARTS.len())
        .prop_map(|(valid, any, swap)| {
            let p: Vec<&str> = (0..PARTS.len())
                .map(|k| if k == swap { any[k] } else { valid[k] })
                .collect();
            format!(
                "{}-{}-{}{}{}:{}:{}{}{}",
                p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]
            )
        })
        .boxed()
}

fn result_object() -> BoxedStrategy<Value> {
    // Mostly a table row with its own status (or, less often, another status), so both
    // sides of known-code-status are reached.
    let row = proptest::sample::select(result_code_table()).prop_map(|row| {
        (
            Some(json!(row.result_code)),
            Some(json!(row.result_status.as_str())),
        )
    });
    let code = prop_oneof![
        4 => proptest::sample::select(ResultCode::KNOWN).prop_map(|c| Some(json!(c))),
        2 => prop_oneof![Just("INVALID_SIGNATURE"), Just("success"), Just("SUCCESS ")].prop_map(|c| Some(json!(c))),
        1 => string_around(&[64]).prop_map(|s| Some(Value::String(s))),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => non_string().prop_map(Some),
    ];
    let status = prop_oneof![
        8 => prop_oneof![Just("S"), Just("F"), Just("U")].prop_map(|s| Some(json!(s))),
        1 => prop_oneof![Just("s"), Just("X"), Just(""), Just("SS"), Just("FAIL")].prop_map(|s| Some(json!(s))),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => non_string().prop_map(Some),
    ];
    let pair = prop_oneof![3 => row, 2 => (code, status)];
    let object =
        (pair, member(&[256]), extra_members()).prop_map(|((code, status), message, extra)| {
            let mut result = Map::new();
            insert(&mut result, "resultCode", code);
            insert(&mut result, "resultStatus", status);
            insert(&mut result, "resultMessage", message);
            for (k, v) in extra {
                result.insert(k, v);
            }
            Value::Object(result)
        });
    prop_oneof![12 => object, 1 => non_string(), 1 => Just(Value::Null), 1 => Just(json!("SUCCESS"))]
    .boxed()
}

fn response_body() -> BoxedStrategy<Value> {
    let cancel_time = prop_oneof![
        6 => timestamp().prop_map(|t| Some(Value::String(t))),
        6 => prop_oneof![
            Just("2019-06-12T19:07:11+08:00"),
            Just("2019-06-12T11:07:11.5z"),
            Just("2016-12-31T23:59:60Z"),
        ]
        .prop_map(|t| Some(json!(t))),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => non_string().prop_map(Some),
    ];
    let object = (
        prop_oneof![12 => result_object().prop_map(Some), 1 => Just(None)],
        member(&[64]),
        member(&[64]),
        cancel_time,
        extra_members(),
    )
        .prop_map(
            |(result, payment_id, payment_request_id, cancel_time, extra)| {
                let mut body = Map::new();
                insert(&mut body, "result", result);
                insert(&mut body, "paymentId", payment_id);
                insert(&mut body, "paymentRequestId", payment_request_id);
                insert(&mut body, "cancelTime", cancel_time);
                for (k, v) in extra {
                    body.insert(k, v);
                }
                Value::Object(body)
            },
        );
    // Near-valid bodies: every member valid but one drawn from the boundary generators,
    // so the single-rule edges are crossed often.
    let valid_id = prop_oneof![Just(1usize), Just(63), Just(64)]
        .prop_flat_map(|len| (Just(len), text_char()))
        .prop_map(|(len, c)| Some(Value::String(std::iter::repeat_n(c, len).collect())));
    let near_valid = (
        result_object(),
        prop_oneof![3 => valid_id.clone(), 1 => member(&[64])],
        prop_oneof![3 => valid_id, 1 => member(&[64])],
        prop_oneof![3 => Just(Some(json!("2019-06-12T19:07:11+08:00"))), 1 => timestamp().prop_map(|t| Some(Value::String(t)))],
    )
        .prop_map(|(result, payment_id, payment_request_id, cancel_time)| {
            let mut body = Map::new();
            body.insert("result".to_owned(), result);
            insert(&mut body, "paymentId", payment_id);
            insert(&mut body, "paymentRequestId", payment_request_id);
            insert(&mut body, "cancelTime", cancel_time);
            Value::Object(body)
        });
    prop_oneof![10 => object, 10 => near_valid, 1 => non_string(), 1 => Just(Value::Null)].boxed()
}

/// Adapter outcomes: each kind (or a word that is none), each member absent, `null`, a string
/// or another type, `cancelTime` in and out of RFC 3339, unknown members.
fn outcome_line() -> BoxedStrategy<Value> {
    let kind = prop_oneof![
        8 => proptest::sample::select(OutcomeKind::ALL.to_vec()).prop_map(|k| Some(json!(k.as_str()))),
        1 => prop_oneof![Just("success"), Just("MAYBE"), Just("")].prop_map(|w| Some(json!(w))),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => non_string().prop_map(Some),
    ];
    // Mostly a string or null, the two the protocol allows, so each kind's rules decide.
    let text = || {
        prop_oneof![
            3 => Just(None),
            3 => Just(Some(Value::Null)),
            6 => string_around(&[1]).prop_map(|s| Some(Value::String(s))),
            1 => non_string().prop_map(Some),
        ]
    };
    let cancel_time = prop_oneof![
        3 => Just(None),
        3 => Just(Some(Value::Null)),
        6 => Just(Some(json!("2019-06-12T19:07:11.1234567+08:00"))),
        3 => timestamp().prop_map(|t| Some(Value::String(t))),
        1 => non_string().prop_map(Some),
    ];
    let members = (
        kind,
        (text(), text(), text()),
        (text(), text()),
        cancel_time,
        text(),
        extra_members(),
    )
        .prop_map(
            |(kind, (code, status, message), (pid, prid), time, error, extra)| {
                let mut line = Map::new();
                insert(&mut line, "outcome", kind);
                for (name, value) in [
                    ("resultCode", code),
                    ("resultStatus", status),
                    ("resultMessage", message),
                    ("paymentId", pid),
                    ("paymentRequestId", prid),
                    ("cancelTime", time),
                    ("error", error),
                ] {
                    insert(&mut line, name, value);
                }
                for (k, v) in extra {
                    line.entry(k).or_insert(v);
                }
                Value::Object(line)
            },
        );
    prop_oneof![20 => members, 1 => non_string(), 1 => Just(Value::Null)].boxed()
}

fn schema_rules(schema: Schema, body: &Value) -> BTreeSet<Rule> {
    schema
        .violations(body)
        .iter()
        .map(|v| {
            v.rule()
                .unwrap_or_else(|| panic!("unmapped violation {v:?}"))
        })
        .collect()
}

fn config() -> Config {
    // At least 1,000 cases per property (the bar); failures are kept under
    // proptest-regressions/ and replayed first.
    Config::with_cases(1000)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_request_schema_and_types_agree(body in request_body()) {
        let schema_valid = Schema::Request.is_valid(&body);
        let typed = CancelRequest::check_value(&body);
        prop_assert_eq!(schema_valid, typed.is_ok(), "body {}: types say {:?}", body, typed);
        // serde goes through the same checks.
        prop_assert_eq!(serde_json::from_value::<CancelRequest>(body.clone()).is_ok(), schema_valid);
        match typed {
            Ok((request, warnings)) => {
                // A valid request re-serialises (nulls dropped, unknown members dropped) to a
                // valid body that parses back to the same value.
                let again = serde_json::to_value(&request).unwrap();
                prop_assert!(Schema::Request.is_valid(&again));
                prop_assert_eq!(CancelRequest::from_value(&again).unwrap(), request);
                let unknown = body.as_object().unwrap().keys()
                    .filter(|k| !CancelRequest::MEMBERS.contains(&k.as_str())).count();
                prop_assert_eq!(warnings.len(), unknown);
            }
            Err(errors) => {
                let rules: BTreeSet<Rule> = errors.rules().into_iter().collect();
                let from_schema = schema_rules(Schema::Request, &body);
                prop_assert!(rules.is_subset(&from_schema), "types {:?} schema {:?} on {}", rules, from_schema, body);
            }
        }
    }

    #[test]
    fn prop_response_schema_and_types_agree(body in response_body()) {
        let schema_valid = Schema::Response.is_valid(&body);
        let typed = CancelResponse::from_value(&body);
        prop_assert_eq!(schema_valid, typed.is_ok(), "body {}: types say {:?}", body, typed);
        prop_assert_eq!(serde_json::from_value::<CancelResponse>(body.clone()).is_ok(), schema_valid);
        match typed {
            Ok(response) => {
                let again = serde_json::to_value(&response).unwrap();
                prop_assert!(Schema::Response.is_valid(&again));
                prop_assert_eq!(CancelResponse::from_value(&again).unwrap(), response);
            }
            Err(errors) => {
                let rules: BTreeSet<Rule> = errors.rules().into_iter().collect();
                let from_schema = schema_rules(Schema::Response, &body);
                prop_assert!(rules.is_subset(&from_schema), "types {:?} schema {:?} on {}", rules, from_schema, body);
            }
        }
    }

    #[test]
    fn prop_result_schema_and_types_agree(result in result_object()) {
        let schema_valid = Schema::Result.is_valid(&result);
        let typed = alipay_cancel_kit::spec::ResultInfo::from_value(&result);
        prop_assert_eq!(schema_valid, typed.is_ok(), "result {}: types say {:?}", result, typed);
    }

    #[test]
    fn prop_outcome_schema_and_types_agree(line in outcome_line()) {
        let schema_valid = Schema::AdapterOutcome.is_valid(&line);
        let typed = Outcome::from_value(&line);
        prop_assert_eq!(schema_valid, typed.is_ok(), "outcome {}: types say {:?}", line, typed);
        if let Ok(outcome) = typed {
            // An explicit null reads as absent: dropping the nulls changes nothing.
            let mut without_nulls = line.as_object().unwrap().clone();
            without_nulls.retain(|_, v| !v.is_null());
            let again = Value::Object(without_nulls);
            prop_assert!(Schema::AdapterOutcome.is_valid(&again));
            prop_assert_eq!(Outcome::from_value(&again).unwrap(), outcome.clone());
            // As the kit writes it (absent members left out), it reads back the same.
            let written = serde_json::to_value(&outcome).unwrap();
            prop_assert!(Schema::AdapterOutcome.is_valid(&written));
            prop_assert_eq!(Outcome::from_value(&written).unwrap(), outcome);
        }
    }

    #[test]
    fn prop_cancel_time_matches_format_and_pattern(text in prop_oneof![4 => timestamp(), 1 => "\\PC{0,30}"]) {
        let body = json!({"result": {"resultCode": "X", "resultStatus": "F"}, "cancelTime": text});
        let typed = CancelTime::parse(&text);
        prop_assert_eq!(Schema::Response.is_valid(&body), typed.is_ok(), "{:?}", text);
        if let Ok(time) = typed {
            prop_assert_eq!(time.as_str(), text.as_str());
            // The instant is chrono's reading of the same text (no leap second there).
            if !text.contains(":60") {
                let upper = text.to_uppercase();
                let chrono = chrono::DateTime::parse_from_rfc3339(&upper).unwrap();
                prop_assert_eq!(time.instant(), chrono);
            }
        }
    }
}

/// The generators are not vacuous: each yields plenty of valid and of invalid bodies.
#[test]
fn generators_reach_both_sides_of_every_boundary() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut share = |strategy: BoxedStrategy<Value>, schema: Schema| {
        let valid = (0..1000)
            .filter(|_| schema.is_valid(&strategy.new_tree(&mut runner).unwrap().current()))
            .count();
        eprintln!("{schema}: {valid} of 1000 valid");
        valid
    };
    for (strategy, schema) in [
        (request_body(), Schema::Request),
        (response_body(), Schema::Response),
        (result_object(), Schema::Result),
        (outcome_line(), Schema::AdapterOutcome),
        (
            timestamp()
                .prop_map(|t| json!({"result": {"resultCode": "X", "resultStatus": "F"}, "cancelTime": t}))
                .boxed(),
            Schema::Response,
        ),
    ] {
        let valid = share(strategy, schema);
        assert!((100..=900).contains(&valid), "{schema}: {valid} of 1000 valid");
    }
}
