//! `serve` (the standing signing gateway) and `health` (is one up?).

use std::path::PathBuf;
use std::time::Duration;

use alipay_cancel_kit::exit::Exit;
use alipay_cancel_kit::serve::{self, keys, ServeConfig, Server, TlsSetting};
use alipay_cancel_kit::standing::command::{run_session, StandingArgs};

use super::{catalogue, fail, runtime};

#[derive(clap::Args)]
pub(crate) struct HealthArgs {
    /// The server's base URL (plain HTTP).
    #[arg(default_value = "http://127.0.0.1:8640")]
    url: String,
    /// How long to wait for the answer, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
}

#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on. Loopback by default; anything else exposes test keys.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The port to listen on; 0 picks a free one (the ready line says which).
    #[arg(long, default_value_t = alipay_cancel_kit::serve::DEFAULT_PORT)]
    port: u16,
    /// Serve HTTPS with a CA made for this run (its certificate is in the ready line).
    #[arg(long)]
    tls: bool,
    /// Serve HTTPS with this certificate chain (PEM) instead of a run CA; needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Keys from DIR (merchant-private.pkcs8.b64, vendor-private.pkcs8.b64). Default: the
    /// committed test-only keys of conformance/keys/.
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
    /// Serve only this client id; other client ids get CLIENT_INVALID.
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// With --keys: put your merchant private key in the ready line (stdout, --ready-file, the
    /// --exec environment) all the same. The committed test-only key is always there.
    #[arg(long, requires = "keys")]
    expose_private_key: bool,
    #[command(flatten)]
    standing: StandingArgs,
    /// Add the scenario group files at PATH (a file or a directory) to the catalogue, so their
    /// magic ids and armed names work too. Repeatable.
    #[arg(long = "catalogue", value_name = "PATH")]
    catalogues: Vec<PathBuf>,
}

pub(crate) fn serve_command(args: ServeArgs) -> Exit {
    let admin_token = match args.standing.admin_token("serve", args.host) {
        Ok(token) => token,
        Err(exit) => return exit,
    };
    let catalogue = match catalogue(&args.catalogues) {
        Ok(catalogue) => catalogue,
        Err(exit) => return exit,
    };
    let keys = match &args.keys {
        Some(dir) => match keys::keys_from_dir(dir) {
            Ok(keys) => keys,
            Err(e) => return fail(format!("--keys: {e}")),
        },
        None => alipay_cancel_kit::signature::TestKeys::fixed(),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => TlsSetting::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ if args.tls => TlsSetting::RunCa,
        _ => TlsSetting::Off,
    };
    let config = ServeConfig {
        bind: std::net::SocketAddr::new(args.host, args.port),
        tls,
        keys,
        client_id: args.client_id.clone(),
        violations_header: !args.standing.no_violations_header,
        journal_file: args.standing.journal.clone(),
        catalogue,
        admin_token,
        expose_private_key: args.expose_private_key,
        ..ServeConfig::loopback()
    };
    runtime().block_on(async move {
        run_session("serve", Server::start(config).await, &args.standing).await
    })
}

pub(crate) fn health_command(args: &HealthArgs) -> Exit {
    match serve::health::probe(&args.url, Duration::from_millis(args.timeout_ms)) {
        Ok(body) => {
            println!("{body}");
            Exit::Ok
        }
        Err(e) => {
            eprintln!("health: {}: {e}", args.url);
            Exit::Failures
        }
    }
}
