//! What a session is given: the client under test, the keys of the run, the jobs and limits,
//! and the one error that stops a run before it starts.

use std::sync::Arc;
use std::time::Duration;

use crate::adapter::{self, Capabilities, StartError};
use crate::capability::Ids;
use crate::gateway::tls::TestPki;
use crate::gateway::GatewayKeys;
use crate::reference_client::{self, Behaviour, Defects};
use crate::signature::SigningKey;
use crate::verdict::{self};

/// The client under test.
#[derive(Clone, Debug)]
pub enum Client {
    /// The built-in reference client, called in process (with deliberate defects or styles,
    /// if any). Its outcome goes through the adapter protocol's JSON, as an adapter's does.
    InProcess(Behaviour),
    /// The built-in reference client, called in process, able to send only some of the ids
    /// and declaring them: a client that cancels by one kind of id (with defects, if any).
    InProcessWithIds {
        /// Its deliberate defects.
        defects: Defects,
        /// The ids it can send and declares.
        ids: Ids,
    },
    /// Any client, through an adapter command run by `sh -c`.
    Adapter {
        /// The command line.
        command: String,
        /// One process for all scenarios (per job) instead of one per scenario.
        persistent: bool,
    },
}

impl Client {
    /// How reports name the client: the adapter command, or the built-in client with its
    /// defects and styles.
    pub fn describe(&self) -> String {
        match self {
            Client::InProcess(b) => {
                let mut name = String::from("built-in reference client");
                if !b.defects.is_empty() {
                    let names: Vec<String> = b.defects.iter().map(|d| d.name()).collect();
                    name.push_str(&format!(" with defects: {}", names.join(", ")));
                }
                if !b.styles.is_empty() {
                    let names: Vec<String> = b.styles.iter().map(|s| s.name()).collect();
                    name.push_str(&format!(" in styles: {}", names.join(", ")));
                }
                name
            }
            Client::InProcessWithIds { defects, ids } => format!(
                "{} sending {} only",
                Client::InProcess(defects.clone().into()).describe(),
                ids.kinds()
                    .map(|k| k.member())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            Client::Adapter { command, .. } => command.clone(),
        }
    }

    /// What the client can do: the adapter's answer to `--capabilities`, or the built-in
    /// client's own list.
    ///
    /// # Errors
    /// [`RunError::Adapter`] when the adapter command cannot be started at all.
    pub async fn capabilities(&self) -> Result<Capabilities, RunError> {
        match self {
            Client::Adapter { command, .. } => adapter::probe_capabilities(command)
                .await
                .map_err(RunError::Adapter),
            Client::InProcess(_) => Ok(Capabilities {
                list: reference_client::CAPABILITIES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                note: None,
            }),
            Client::InProcessWithIds { ids, .. } => Ok(Capabilities {
                list: reference_client::capabilities(*ids),
                note: None,
            }),
        }
    }

    /// The adapter command a pool of persistent processes runs, for a persistent adapter.
    pub fn pool_command(&self) -> Option<&str> {
        match self {
            Client::Adapter {
                command,
                persistent: true,
            } => Some(command),
            _ => None,
        }
    }

    /// How the client runs: `in-process`, `exec` or `persistent`.
    pub fn mode(&self) -> &'static str {
        match self {
            Client::InProcess(_) | Client::InProcessWithIds { .. } => "in-process",
            Client::Adapter {
                persistent: true, ..
            } => "persistent",
            Client::Adapter { .. } => "exec",
        }
    }
}

/// The keys of one run: the merchant's and the vendor's, generated per run. Test-only.
///
/// Built by [`RunKeys::new`] (or `generate`, `fixed`), which also encodes, once, what every
/// scenario hands out: the keys in the vendor's text formats and the gateway's key set.
#[derive(Clone)]
pub struct RunKeys {
    /// The merchant key: the client signs requests with it.
    pub merchant: SigningKey,
    /// The vendor key: the gateway signs answers with it.
    pub vendor: SigningKey,
    /// A key that is not the vendor's.
    pub other: SigningKey,
    /// The test CAs and the gateway's TLS certificates.
    pub tls: Arc<TestPki>,
    /// `merchant` as base64 PKCS#8 and the vendor's public key as base64 SPKI.
    pub(super) instruction_keys: (String, String),
    pub(super) gateway_keys: GatewayKeys,
}

impl RunKeys {
    /// The keys of a run, with their encodings made once.
    pub fn new(
        merchant: SigningKey,
        vendor: SigningKey,
        other: SigningKey,
        tls: Arc<TestPki>,
    ) -> RunKeys {
        let instruction_keys = (
            merchant.to_base64_pkcs8(),
            vendor.verifying_key().to_base64_spki(),
        );
        let gateway_keys = GatewayKeys {
            merchant_public: merchant.verifying_key(),
            vendor: vendor.clone(),
            other: other.clone(),
        };
        RunKeys {
            merchant,
            vendor,
            other,
            tls,
            instruction_keys,
            gateway_keys,
        }
    }

    /// The keys a gateway of this run serves with.
    pub fn gateway_keys(&self) -> &GatewayKeys {
        &self.gateway_keys
    }

    /// Generates three fresh 2048-bit keys, on as many threads.
    pub fn generate() -> RunKeys {
        let spawn = || std::thread::spawn(SigningKey::generate);
        let (a, b, c) = (spawn(), spawn(), spawn());
        let join = |h: std::thread::JoinHandle<SigningKey>| h.join().expect("key generation");
        RunKeys::new(
            join(a),
            join(b),
            join(c),
            Arc::new(TestPki::generate().expect("the test PKI generates")),
        )
    }

    /// The fixed TEST-ONLY keys of [`TestKeys::fixed`] with a fresh test PKI: for tests and
    /// benchmarks, where generating RSA keys would dominate the time.
    ///
    /// [`TestKeys::fixed`]: crate::signature::TestKeys::fixed
    pub fn fixed() -> RunKeys {
        let fixed = crate::signature::TestKeys::fixed();
        RunKeys::new(
            fixed.merchant,
            fixed.vendor,
            fixed.other_vendor,
            Arc::new(TestPki::generate().expect("the test PKI generates")),
        )
    }
}

/// Everything a run needs besides the scenarios.
#[derive(Clone)]
pub struct RunConfig {
    /// The client under test.
    pub client: Client,
    /// How many scenarios run at once.
    pub jobs: usize,
    /// Added to `timeoutMs × 5` to make the hard time limit of a scenario.
    pub time_limit_margin: Duration,
    /// The run's keys.
    pub keys: RunKeys,
    /// Serve every scenario over HTTPS (plain ones with the trusted certificate), for clients
    /// that cannot speak plain HTTP, such as the official Python SDK.
    pub tls: bool,
}

/// A run could not be carried out at all (exit code 2).
#[derive(Debug)]
pub enum RunError {
    /// The adapter command cannot be started.
    Adapter(StartError),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Adapter(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Adapter(e) => Some(e),
        }
    }
}

impl From<StartError> for RunError {
    fn from(e: StartError) -> RunError {
        RunError::Adapter(e)
    }
}

/// The hard time limit of a scenario: room for 5 exchanges of `timeoutMs` plus the margin.
pub fn time_limit(timeout_ms: u64, margin: Duration) -> Duration {
    Duration::from_millis(timeout_ms.saturating_mul(verdict::MAX_REQUESTS as u64)) + margin
}
