//! The spec types: the result-code table, ids, timestamps, bodies, and their messages.

use alipay_cancel_kit::schema::Schema;
use alipay_cancel_kit::spec::{
    render_result_code_table, result_code_table, CancelRequest, CancelResponse, CancelTime,
    MerchantAccountId, PaymentId, PaymentRequestId, ResultCode, ResultInfo, ResultStatus,
    RetryAdvice, Rule, SpecError, RESULT_CODES_JSON,
};
use proptest::strategy::Strategy;
use serde_json::{json, Value};

#[test]
fn the_table_has_the_seed_s_17_rows_and_valid_shape() {
    let table = result_code_table();
    assert_eq!(table.len(), 17);
    let file: Value = serde_json::from_str(RESULT_CODES_JSON).unwrap();
    let violations = Schema::ResultCodes.violations(&file);
    assert!(violations.is_empty(), "{violations:?}");
}

#[test]
fn the_enum_variants_are_the_table_rows_in_order() {
    let codes: Vec<&str> = result_code_table()
        .iter()
        .map(|row| row.result_code.as_str())
        .collect();
    assert_eq!(ResultCode::KNOWN, codes.as_slice());
    for row in result_code_table() {
        let code = ResultCode::from(row.result_code.as_str());
        assert!(code.is_known(), "{} parses to Other", row.result_code);
        assert_eq!(code.as_str(), row.result_code);
        assert_eq!(code.known_status(), Some(row.result_status));
        assert_eq!(code.row(), Some(row));
    }
}

#[test]
fn unknown_codes_are_kept_as_sent() {
    let code: ResultCode = "INVALID_SIGNATURE".parse().unwrap();
    assert_eq!(code, ResultCode::Other("INVALID_SIGNATURE".to_owned()));
    assert_eq!(code.known_status(), None);
    assert_eq!(code.row(), None);
    assert_eq!(
        serde_json::to_string(&code).unwrap(),
        "\"INVALID_SIGNATURE\""
    );
    let back: ResultCode = serde_json::from_str("\"ORDER_NOT_EXIST\"").unwrap();
    assert_eq!(back, ResultCode::OrderNotExist);
}

#[test]
fn retry_advice_follows_the_further_action_column() {
    let advice = |code: ResultCode| code.row().unwrap().retry;
    assert_eq!(advice(ResultCode::Success), RetryAdvice::None);
    assert_eq!(advice(ResultCode::ProcessFail), RetryAdvice::DoNotRetry);
    assert_eq!(advice(ResultCode::SystemError), RetryAdvice::DoNotRetry);
    assert_eq!(advice(ResultCode::UnknownException), RetryAdvice::CallAgain);
    assert_eq!(
        advice(ResultCode::RequestTrafficExceedLimit),
        RetryAdvice::CallAgain
    );
    for row in result_code_table() {
        assert_eq!(
            row.result_status == ResultStatus::U,
            row.retry == RetryAdvice::CallAgain,
            "{}",
            row.result_code
        );
    }
}

#[test]
fn the_rendered_table() {
    insta::assert_snapshot!(render_result_code_table(), @r"
    | resultCode | resultStatus | message | further action | retry |
    |---|---|---|---|---|
    | `SUCCESS` | S | success | The order was cancelled. | none |
    | `ACCESS_DENIED` | F | Access denied. | Contact Alipay technical support for the detailed reason. | not-stated |
    | `INVALID_API` | F | The API called is invalid or not active. | Contact Alipay technical support to resolve the issue. | not-stated |
    | `CANCEL_WINDOW_EXCEED` | F | The cancel date is past the period allowed by the contract. | The transaction can no longer be cancelled (refund instead). | not-stated |
    | `KEY_NOT_FOUND` | F | The private or public key of Alipay or the merchant was not found. | Check that the keys exist; upload them in the Alipay developer center if not. | not-stated |
    | `MERCHANT_BALANCE_NOT_ENOUGH` | F | The merchant balance is insufficient. | Call the API again once the merchant balance suffices. | call-again-after-fix |
    | `NO_INTERFACE_DEF` | F | The API is not defined. | Check the URL against the endpoint in the API documentation. | not-stated |
    | `ORDER_NOT_EXIST` | F | The order does not exist. | Check that paymentId is correct; if it is, contact Alipay technical support. | not-stated |
    | `ORDER_STATUS_INVALID` | F | The order status is invalid for further processing. | Check the order status of the transaction or contact Alipay technical support. | not-stated |
    | `PARAM_ILLEGAL` | F | A required parameter is missing or a parameter is illegal (non-numeric input, invalid date, wrong length or type). | Check that the request fields this API needs (headers and body) are passed and valid. | call-again-after-fix |
    | `PROCESS_FAIL` | F | A general business failure occurred. | Do not retry; manual intervention is usually needed. Contact Alipay technical support. | do-not-retry |
    | `SYSTEM_ERROR` | F | System error. | Do not retry; contact Alipay technical support for details. | do-not-retry |
    | `REQUEST_TRAFFIC_EXCEED_LIMIT` | U | The request traffic exceeds the limit. | Call the API again; contact Alipay technical support if the problem persists. | call-again |
    | `PAYMENT_METHOD_NOT_SUPPORTED` | F | The payment method does not support cancel or refund of a successful transaction. | Do not retry; contact Alipay technical support for more information. | do-not-retry |
    | `UNKNOWN_EXCEPTION` | U | The API call failed for an unknown reason. | Call the API again; contact Alipay technical support if the problem persists. | call-again |
    | `USER_NOT_EXIST` | F | The wallet user does not exist. | Contact Alipay technical support for the detailed reason. | not-stated |
    | `USER_STATUS_ABNORMAL` | F | The wallet user's status is abnormal. | Contact Alipay technical support for the specific reason. | not-stated |
    ");
}

#[test]
fn ids_count_code_points_not_bytes() {
    assert!(PaymentId::try_from("😀".repeat(64)).is_ok());
    assert!(PaymentRequestId::try_from("é".repeat(64)).is_ok());
    assert!(MerchantAccountId::try_from("订".repeat(32)).is_ok());
    let err = PaymentId::try_from("😀".repeat(65)).unwrap_err();
    insta::assert_snapshot!(err, @"paymentId: expected at most 64 characters, found 65");
    let err = MerchantAccountId::try_from("m".repeat(33)).unwrap_err();
    insta::assert_snapshot!(err, @"merchantAccountId: expected at most 32 characters, found 33");
    let err = PaymentRequestId::try_from(String::new()).unwrap_err();
    insta::assert_snapshot!(err, @"paymentRequestId: expected at least 1 character, found 0");
    assert_eq!(err.rule(), Rule::IdLength);
}

#[test]
fn ids_deserialise_through_the_same_check() {
    let err = serde_json::from_value::<PaymentId>(json!("x".repeat(65))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "paymentId: expected at most 64 characters, found 65"
    );
    let id: PaymentId = serde_json::from_value(json!("abc")).unwrap();
    assert_eq!(serde_json::to_value(&id).unwrap(), json!("abc"));
}

#[test]
fn cancel_time_accepts_rfc_3339_with_offset_only() {
    for ok in [
        "2019-06-12T19:07:11+08:00",
        "2019-06-12T11:07:11Z",
        "2019-06-12t11:07:11z",
        "2019-06-12T08:37:11-03:30",
        "2019-06-12T16:52:11+05:45",
        "2019-06-12T11:07:11.5Z",
        "2019-06-12T11:07:11.1234567890123Z",
        "2016-12-31T23:59:60Z",
        "2017-01-01T08:59:60+09:00",
        "2020-02-29T00:00:00-00:00",
        "0000-01-01T00:00:00Z",
    ] {
        let t = CancelTime::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert_eq!(t.as_str(), ok);
        assert_eq!(t.to_string(), ok, "printed as sent");
    }
    for bad in [
        "2019-06-12 19:07:11+08:00",
        "2019-06-12T19:07:11+0800",
        "2019-06-12T19:07:11",
        "2019-06-12T19:07:11 UTC",
        "2019-06-12T19:07:11+08",
        "2019-06-12",
        "2019-02-29T00:00:00Z",
        "2019-06-12T24:00:00Z",
        "2019-06-12T23:59:60+08:00",
        "2019-06-12T19:07:11.+08:00",
        "2019-06-12T19:07:11+24:00",
        "2019-06-12T19:07:11ZZ",
        "２０19-06-12T19:07:11Z",
        "",
        // Each separator in its place, each one alone wrong.
        "2019x06-12T19:07:11Z",
        "2019-06x12T19:07:11Z",
        "2019-06-12T19x07:11Z",
        "2019-06-12T19:07x11Z",
        // Each field of the time alone out of range.
        "2019-06-12T19:60:11Z",
        "2019-06-12T19:07:61Z",
    ] {
        assert!(CancelTime::parse(bad).is_err(), "{bad} was accepted");
    }
    let err = CancelTime::parse("2019-06-12 19:07:11+08:00").unwrap_err();
    insta::assert_snapshot!(err, @r#"cancelTime: expected an RFC 3339 date-time with offset, found "2019-06-12 19:07:11+08:00""#);
}

#[test]
fn cancel_time_keeps_text_and_instant() {
    let a = CancelTime::parse("2019-06-12T19:07:11+08:00").unwrap();
    let b = CancelTime::parse("2019-06-12T11:07:11.000Z").unwrap();
    assert!(a.same_instant(&b));
    assert_ne!(a, b);
    assert_eq!(a.instant().offset().local_minus_utc(), 8 * 3600);
    let leap = CancelTime::parse("2016-12-31T23:59:60.5Z").unwrap();
    assert_eq!(leap.instant().timestamp_subsec_nanos(), 1_500_000_000);
    // A leap second is the first second of the next minute, as POSIX time counts it: the same
    // instant as midnight's, not the second before it.
    let at = |t: &str| CancelTime::parse(t).unwrap();
    assert!(at("2016-12-31T23:59:60Z").same_instant(&at("2017-01-01T00:00:00Z")));
    assert!(!at("2016-12-31T23:59:60Z").same_instant(&at("2016-12-31T23:59:59Z")));
    assert!(leap.same_instant(&at("2017-01-01T08:00:00.5+08:00")));
    // Trailing zeros of a fraction change nothing; any other digit does.
    assert!(at("2019-06-12T11:07:11.5Z").same_instant(&at("2019-06-12T11:07:11.500Z")));
    assert!(!at("2019-06-12T11:07:11.5Z").same_instant(&at("2019-06-12T11:07:11.501Z")));
    let json = serde_json::to_string(&a).unwrap();
    assert_eq!(json, "\"2019-06-12T19:07:11+08:00\"");
}

#[test]
fn request_serialises_compactly_without_nones() {
    let req = CancelRequest::by_payment_id("2019061218401080010018882020035XXXX".parse().unwrap());
    assert_eq!(
        serde_json::to_string(&req).unwrap(),
        r#"{"paymentId":"2019061218401080010018882020035XXXX"}"#
    );
    assert!(req.check().is_ok());
    assert!(CancelRequest::default().check().is_err());
    let back: CancelRequest = serde_json::from_str(&serde_json::to_string(&req).unwrap()).unwrap();
    assert_eq!(back, req);
}

#[test]
fn request_errors_list_every_rule_with_its_pointer() {
    let body = json!({"paymentId": "", "paymentRequestId": "x".repeat(65), "merchantAccountId": 7});
    let errors = CancelRequest::from_value(&body).unwrap_err();
    insta::assert_snapshot!(errors, @r"
    merchantAccountId: expected a string, found 7
    paymentId: expected at least 1 character, found 0
    paymentRequestId: expected at most 64 characters, found 65
    ");
    let errors = CancelRequest::from_value(&json!({"paymentId": null})).unwrap_err();
    insta::assert_snapshot!(errors, @"body: expected paymentId or paymentRequestId not null, found neither");
    let errors = CancelRequest::from_value(&json!(["paymentId"])).unwrap_err();
    insta::assert_snapshot!(errors, @"body: expected an object, found an array");
    let errors = CancelRequest::from_slice(b"{\"paymentId\":").unwrap_err();
    insta::assert_snapshot!(errors, @"body: expected a JSON document, found a syntax error at line 1 column 13: EOF while parsing a value");
}

#[test]
fn request_unknown_members_are_warnings() {
    let (req, warnings) =
        CancelRequest::from_slice_with_warnings(br#"{"paymentId":"p","amount":"20","a/b":1}"#)
            .unwrap();
    assert_eq!(req.payment_id.unwrap().as_str(), "p");
    let shown: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(shown.join("\n"), @r"
    amount: unknown member: the spec defines paymentId, paymentRequestId and merchantAccountId only; SHOULD not be sent
    a~1b: unknown member: the spec defines paymentId, paymentRequestId and merchantAccountId only; SHOULD not be sent
    ");
}

#[test]
fn response_errors_list_every_rule_with_its_pointer() {
    let body = json!({
        "result": {"resultCode": "C".repeat(65), "resultStatus": "s", "resultMessage": "m".repeat(257)},
        "paymentId": 12,
        "cancelTime": "2019-06-12T19:07:11+0800",
    });
    let errors = CancelResponse::from_value(&body).unwrap_err();
    insta::assert_snapshot!(errors, @r#"
    result/resultCode: expected at most 64 characters, found 65
    result/resultStatus: expected one of "S", "F", "U", found "s"
    result/resultMessage: expected at most 256 characters, found 257
    paymentId: expected a string, found 12
    cancelTime: expected an RFC 3339 date-time with offset, found "2019-06-12T19:07:11+0800"
    "#);
    let errors = CancelResponse::from_value(
        &json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}, "cancelTime": null}),
    )
    .unwrap_err();
    insta::assert_snapshot!(errors, @r#"
    paymentId: expected a string when resultStatus is "S", found none
    paymentRequestId: expected a string when resultStatus is "S", found none
    cancelTime: expected a string when resultStatus is "S", found null
    "#);
    let errors = CancelResponse::from_value(&json!({"result": {"resultStatus": "F"}})).unwrap_err();
    insta::assert_snapshot!(errors, @"result/resultCode: expected a member here, found none");
    let errors = CancelResponse::from_value(&json!({})).unwrap_err();
    insta::assert_snapshot!(errors, @"result: expected a member here, found none");
    let errors = CancelResponse::from_value(
        &json!({"result": {"resultCode": "SUCCESS", "resultStatus": "F"}}),
    )
    .unwrap_err();
    insta::assert_snapshot!(errors, @r#"result/resultStatus: expected "S" for resultCode SUCCESS (result-code table), found "F""#);
}

#[test]
fn long_values_are_cut_in_messages() {
    let errors = CancelResponse::from_value(&json!({"result": {"resultCode": "X", "resultStatus": "F"}, "cancelTime": "9".repeat(5000)})).unwrap_err();
    insta::assert_snapshot!(errors, @r#"cancelTime: expected an RFC 3339 date-time with offset, found "999999999999999999999999999999999999999999999999999999999999..." (5000 characters)"#);
}

#[test]
fn every_error_names_a_rule_and_a_pointer() {
    let error = SpecError::NoPaymentId;
    assert_eq!(error.rule(), Rule::OneIdRequired);
    assert_eq!(error.pointer(), "");
    for rule in Rule::ALL {
        assert_eq!(rule.as_str().parse::<Rule>(), Ok(rule));
        assert!(!rule.source().is_empty());
    }
}

#[test]
fn response_and_result_deserialise_through_the_same_checks() {
    let seed = r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"成功"},"paymentRequestId":"pay_2089760038715669_20277574507XXXX","paymentId":"2019061218401080010018882020035XXXX","cancelTime":"2019-06-12T19:07:11+08:00","future":1}"#;
    let res: CancelResponse = serde_json::from_str(seed).unwrap();
    assert_eq!(res.result.result_status, ResultStatus::S);
    let again: CancelResponse =
        serde_json::from_str(&serde_json::to_string(&res).unwrap()).unwrap();
    assert_eq!(again, res);
    let err = serde_json::from_str::<ResultInfo>(
        r#"{"resultCode":"ORDER_NOT_EXIST","resultStatus":"S"}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"resultStatus: expected "F" for resultCode ORDER_NOT_EXIST (result-code table), found "S""#
    );
}

/// An instant in picoseconds since the epoch written as RFC 3339 in `offset_minutes`, with
/// the twelve fraction digits cut to `digits` (the instant must have no more).
fn rfc3339_ps(ps: i128, offset_minutes: i32, digits: usize) -> String {
    const PS: i128 = 1_000_000_000_000;
    let seconds = i64::try_from(ps.div_euclid(PS)).unwrap();
    let fraction = format!("{:012}", ps.rem_euclid(PS));
    let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
    let local = chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap()
        .with_timezone(&offset);
    let fraction = match &fraction[..digits] {
        "" => String::new(),
        d => format!(".{d}"),
    };
    let zone = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        local.format("%:z").to_string()
    };
    format!("{}{fraction}{zone}", local.format("%Y-%m-%dT%H:%M:%S"))
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(1000))]

    /// `within_millisecond` and `same_instant` are exact, to the last digit of either text,
    /// across seconds, offsets and trailing zeros: against integer picoseconds.
    #[test]
    fn prop_cancel_time_comparisons_are_exact(
        whole in 946_684_800i64..4_102_444_800,
        fraction_ps in 0i128..1_000_000_000_000,
        served_digits in 0usize..=12,
        delta in proptest::prop_oneof![
            // Around the millisecond boundary on both sides, then anywhere within 2 ms.
            (-3i128..=3).prop_map(|d| 1_000_000_000 + d),
            (-3i128..=3).prop_map(|d| -1_000_000_000 + d),
            -2_000_000_000i128..=2_000_000_000,
            proptest::prelude::Just(0i128),
        ],
        offsets in (proptest::sample::select(vec![0, 480, -180, 345, -570]), proptest::sample::select(vec![0, 480, 525, -720])),
    ) {
        // The served instant has `served_digits` digits; the surfaced one all twelve.
        let scale = 10i128.pow(12 - u32::try_from(served_digits).unwrap());
        let served_ps = i128::from(whole) * 1_000_000_000_000 + fraction_ps / scale * scale;
        let surfaced_ps = served_ps + delta;
        let served = CancelTime::parse(&rfc3339_ps(served_ps, offsets.0, served_digits)).unwrap();
        let surfaced = CancelTime::parse(&rfc3339_ps(surfaced_ps, offsets.1, 12)).unwrap();
        proptest::prop_assert_eq!(served.within_millisecond(&surfaced), delta.abs() < 1_000_000_000, "{} {}", served, surfaced);
        proptest::prop_assert_eq!(surfaced.within_millisecond(&served), delta.abs() < 1_000_000_000);
        proptest::prop_assert_eq!(served.same_instant(&surfaced), delta == 0, "{} {}", served, surfaced);
    }
}
