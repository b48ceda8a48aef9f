//! The JSON Schemas under `schema/`, embedded in the binary and compiled once.
//!
//! Every schema is draft 2020-12 and compiled with `format` checks on; all of them are
//! registered under their `$id`, so one may `$ref` another (the response refers to the
//! `result` schema) without any file or network access.

use std::fmt;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Registry, ValidationError, Validator};
use serde_json::{json, Value};

use crate::spec::{error::quote_abbreviated, result_code_table, ResultStatus, Rule};

/// One embedded schema document.
///
/// # Example
/// ```
/// use alipay_cancel_kit::schema::Schema;
/// use alipay_cancel_kit::spec::Rule;
/// use serde_json::json;
/// let violations = Schema::Request.violations(&json!({"paymentId": 20}));
/// assert_eq!(violations[0].to_string(), r#"/paymentId: 20 is not of types "null", "string""#);
/// assert_eq!(violations[0].rule(), Some(Rule::String));
/// assert_eq!(Schema::Request.path(), "schema/cancel-request.schema.json");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Schema {
    /// `schema/cancel-request.schema.json`: the cancel request body.
    Request,
    /// `schema/cancel-response.schema.json`: the cancel response body.
    Response,
    /// `schema/result.schema.json`: the response's `result` object.
    Result,
    /// `schema/result-codes.schema.json`: the shape of the result-code table file.
    ResultCodes,
    /// `schema/adapter-instruction.schema.json`: kit to adapter.
    AdapterInstruction,
    /// `schema/adapter-outcome.schema.json`: adapter to kit.
    AdapterOutcome,
    /// `schema/report.schema.json`: the JSON report.
    Report,
    /// `schema/scenario.schema.json`: one scenario of the catalogue.
    Scenario,
    /// `schema/serve-journal.schema.json`: one line of `serve --journal`.
    ServeJournal,
}

const COUNT: usize = 9;

impl Schema {
    /// Every schema, in this order.
    pub const ALL: [Schema; COUNT] = [
        Schema::Request,
        Schema::Response,
        Schema::Result,
        Schema::ResultCodes,
        Schema::AdapterInstruction,
        Schema::AdapterOutcome,
        Schema::Report,
        Schema::Scenario,
        Schema::ServeJournal,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The file's path from the repository root.
    pub const fn path(self) -> &'static str {
        match self {
            Schema::Request => "schema/cancel-request.schema.json",
            Schema::Response => "schema/cancel-response.schema.json",
            Schema::Result => "schema/result.schema.json",
            Schema::ResultCodes => "schema/result-codes.schema.json",
            Schema::AdapterInstruction => "schema/adapter-instruction.schema.json",
            Schema::AdapterOutcome => "schema/adapter-outcome.schema.json",
            Schema::Report => "schema/report.schema.json",
            Schema::Scenario => "schema/scenario.schema.json",
            Schema::ServeJournal => "schema/serve-journal.schema.json",
        }
    }

    /// The file's text, as embedded at build time.
    pub const fn source(self) -> &'static str {
        match self {
            Schema::Request => include_str!("../schema/cancel-request.schema.json"),
            Schema::Response => include_str!("../schema/cancel-response.schema.json"),
            Schema::Result => include_str!("../schema/result.schema.json"),
            Schema::ResultCodes => include_str!("../schema/result-codes.schema.json"),
            Schema::AdapterInstruction => include_str!("../schema/adapter-instruction.schema.json"),
            Schema::AdapterOutcome => include_str!("../schema/adapter-outcome.schema.json"),
            Schema::Report => include_str!("../schema/report.schema.json"),
            Schema::Scenario => include_str!("../schema/scenario.schema.json"),
            Schema::ServeJournal => include_str!("../schema/serve-journal.schema.json"),
        }
    }

    /// The parsed document.
    ///
    /// # Panics
    /// If the embedded file is not JSON (a test parses every one).
    pub fn value(self) -> &'static Value {
        static VALUES: [OnceLock<Value>; COUNT] = [const { OnceLock::new() }; COUNT];
        VALUES[self.index()].get_or_init(|| {
            serde_json::from_str(self.source())
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", self.path()))
        })
    }

    /// The document's `$id`.
    pub fn id(self) -> &'static str {
        self.value()
            .get("$id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The compiled validator (draft 2020-12, formats checked), built on first use.
    ///
    /// # Panics
    /// If the embedded schema does not compile (a test compiles every one).
    pub fn validator(self) -> &'static Validator {
        static VALIDATORS: [OnceLock<Validator>; COUNT] = [const { OnceLock::new() }; COUNT];
        VALIDATORS[self.index()].get_or_init(|| {
            self.try_compile()
                .unwrap_or_else(|e| panic!("{} does not compile: {e}", self.path()))
        })
    }

    /// Compiles the schema afresh, reporting a schema error instead of panicking.
    ///
    /// # Errors
    /// The compiler's error when the document is not a valid draft 2020-12 schema or a
    /// reference does not resolve.
    pub fn try_compile(self) -> Result<Validator, ValidationError<'static>> {
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .with_registry(registry())
            .build(self.value())
    }

    /// Whether `instance` is valid.
    pub fn is_valid(self, instance: &Value) -> bool {
        self.validator().is_valid(instance)
    }

    /// Every violation of `instance`, in the validator's order.
    pub fn violations(self, instance: &Value) -> Vec<Violation> {
        self.validator()
            .iter_errors(instance)
            .map(|e| Violation::from_error(&e))
            .collect()
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// Every embedded schema, under its `$id`.
fn registry() -> &'static Registry<'static> {
    static REGISTRY: OnceLock<Registry<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let pairs = Schema::ALL
            .into_iter()
            .filter(|s| !s.id().is_empty())
            .map(|s| (s.id(), s.value()));
        Registry::new()
            .extend(pairs)
            .and_then(|builder| builder.prepare())
            .expect("the embedded schemas' $ids are valid URIs")
    })
}

/// One schema violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer of the offending value (`""` for the root); for `required`, the object
    /// that lacks the member.
    pub pointer: String,
    /// The JSON Schema keyword that failed (`maxLength`, `required`, ...).
    pub keyword: String,
    /// Where the keyword is in the schema (a JSON pointer through the schema, `$ref`s
    /// included).
    pub schema_path: String,
    /// For `required`: the missing member.
    pub missing: Option<String>,
    /// The validator's message, with long values cut.
    pub message: String,
}

impl Violation {
    fn from_error(error: &ValidationError<'_>) -> Violation {
        let missing = match error.kind() {
            ValidationErrorKind::Required { property } => Some(
                property
                    .as_str()
                    .map_or_else(|| property.to_string(), str::to_owned),
            ),
            _ => None,
        };
        let mut message = error.to_string();
        if message.chars().count() > 200 {
            message = match error.instance().as_ref() {
                Value::String(s) => {
                    format!("{} ({})", quote_abbreviated(s), error.kind().keyword())
                }
                _ => message.chars().take(200).collect::<String>() + "...",
            };
        }
        Violation {
            pointer: error.instance_path().to_string(),
            keyword: error.kind().keyword().to_owned(),
            schema_path: error.schema_path().to_string(),
            missing,
            message,
        }
    }

    /// The body rule of the cancel schemas ([`Schema::Request`], [`Schema::Response`],
    /// [`Schema::Result`]) that this violation breaks; `None` for other schemas' keywords.
    pub fn rule(&self) -> Option<Rule> {
        let last = self.pointer.rsplit('/').next().unwrap_or_default();
        let in_then = self.schema_path.contains("/then/");
        Some(match self.keyword.as_str() {
            "type" if in_then => Rule::RequiredOnSuccess,
            "type" if self.pointer.is_empty() || self.pointer == "/result" => Rule::Object,
            "type" => Rule::String,
            "required" => match self.missing.as_deref() {
                _ if in_then => Rule::RequiredOnSuccess,
                Some("result") => Rule::ResultRequired,
                Some("resultCode") => Rule::ResultCode,
                Some("resultStatus") => Rule::ResultStatus,
                _ => return None,
            },
            "minLength" | "maxLength" => match last {
                "paymentId" | "paymentRequestId" => Rule::IdLength,
                "merchantAccountId" => Rule::MerchantAccountIdLength,
                "resultCode" => Rule::ResultCode,
                "resultMessage" => Rule::ResultMessageLength,
                _ => return None,
            },
            "anyOf" => Rule::OneIdRequired,
            "enum" if last == "resultStatus" => Rule::ResultStatus,
            "const" if last == "resultStatus" => Rule::KnownCodeStatus,
            "format" | "pattern" if last == "cancelTime" => Rule::CancelTime,
            _ => return None,
        })
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pointer, self.message)
    }
}

/// The `allOf` of `schema/result.schema.json` as the result-code table dictates it: one
/// `if`/`then` per status, naming that status's codes in table order. A test checks the
/// committed schema equals this, so the table and the schema cannot drift.
pub fn known_code_status_rules() -> Value {
    let rules: Vec<Value> = ResultStatus::ALL
        .into_iter()
        .filter_map(|status| {
            let codes: Vec<&str> = result_code_table()
                .iter()
                .filter(|row| row.result_status == status)
                .map(|row| row.result_code.as_str())
                .collect();
            (!codes.is_empty()).then(|| {
                json!({
                    "description": format!("Rule known-code-status (seed, result-code table): these codes come with resultStatus {status}."),
                    "if": {
                        "properties": { "resultCode": { "enum": codes } },
                        "required": ["resultCode"]
                    },
                    "then": {
                        "properties": { "resultStatus": { "const": status.as_str() } }
                    }
                })
            })
        })
        .collect();
    Value::Array(rules)
}
