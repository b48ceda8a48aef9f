//! Spec as code and conformance kit for Alipay's (Antom's) payment cancel API,
//! `POST /v1/payments/cancel` (`/ams/api/v1/payments/cancel` on the gateway).
//!
//! - [`spec`]: the request and response rules as validated types, and the result-code table.
//! - [`schema`]: the JSON Schemas under `schema/`, embedded and compiled.
//! - [`openapi`]: the cancel API as an OpenAPI 3.1 document, generated from the schemas.
//! - [`validate`]: the `validate` command: bodies from files, stdin and NDJSON streams.
//! - [`signature`]: the RSA256 signing scheme, both directions, and test keys.
//! - [`scenario`]: the conformance catalogue under `conformance/`.
//! - [`gateway`]: the signing mock gateway that records and checks every request.
//! - [`adapter`]: running any client through the adapter protocol.
//! - [`capability`]: the id capabilities: which ids a client can send.
//! - [`verdict`]: checks and their grading.
//! - [`report`]: terminal, JSON, JUnit and markdown reports, and the baseline.
//! - [`reference_client`]: the built-in client that is correct by the contract.
//! - [`exit`]: how commands end: the exit codes of the contract, as a type.
//! - [`signals`]: SIGINT and SIGTERM, heard once and named as a type.
//! - [`harness`]: one harness session: configuration, capabilities, adapter pool, stop signal.
//! - [`run`]: one conformance run, end to end.
//! - [`shard`]: a run split across CI jobs, and the fingerprint that ties the shards together.
//! - [`standing`]: what `serve` and `proxy` share: listening, the ready line, `--exec`, the
//!   journal, the violations header, the session's end.
//! - [`serve`]: one standing signing gateway that an SDK's own test suite drives.
//! - [`proxy`]: a checking proxy in front of any gateway (the vendor's sandbox included).
//! - [`contract`]: the contract as a lower layer: typed check ids, the request checks and the
//!   outcome rules one function each, the classes of answer and what a client may conclude.
//! - [`fuzz`]: generated cases (proptest strategies), shrunk to the smallest failing one.
//! - [`mock`]: the gateway as wiremock mocks for Rust clients' own tests: a signature-checking
//!   `Match` and a signing `Respond`.

pub mod adapter;
pub mod capability;
pub mod contract;
pub mod exit;
pub mod fuzz;
pub mod gateway;
pub mod harness;
pub mod mock;
pub mod openapi;
pub mod protocol;
pub mod proxy;
pub mod reference_client;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schema;
pub mod serve;
pub mod shard;
pub mod signals;
pub mod signature;
pub mod spec;
pub mod standing;
pub mod transcript;
pub mod validate;
pub mod verdict;
