//! `proxy`: a checking proxy in front of any gateway.

use std::path::PathBuf;
use std::time::Duration;

use alipay_cancel_kit::exit::Exit;
use alipay_cancel_kit::standing::command::{run_session, StandingArgs};
use alipay_cancel_kit::standing::TlsSetting;

use super::{fail, runtime};

#[derive(clap::Args)]
pub(crate) struct ProxyArgs {
    /// The gateway to forward to: http://HOST[:PORT] or https://HOST[:PORT] (the vendor's
    /// sandbox, or `serve`).
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// The CA certificates (PEM) to verify an https upstream with, instead of the system's.
    #[arg(long, value_name = "FILE")]
    upstream_ca: Option<PathBuf>,
    /// Verify request signatures with this merchant public key (PEM or base64 DER); without
    /// it the signature check is reported as not run.
    #[arg(long, value_name = "KEY")]
    merchant_public_key: Option<PathBuf>,
    /// Verify answer signatures with this vendor public key (PEM or base64 DER).
    #[arg(long, value_name = "KEY")]
    alipay_public_key: Option<PathBuf>,
    /// Give up on the upstream after this many seconds (the client then gets a 502 saying so).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    upstream_timeout: u64,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The port to listen on; 0 picks a free one (the ready line says which).
    #[arg(long, default_value_t = alipay_cancel_kit::proxy::DEFAULT_PORT)]
    port: u16,
    /// Listen with HTTPS, with a CA made for this run (its certificate is in the ready line).
    #[arg(long)]
    tls: bool,
    /// Write each exchange into DIR as a scenario file (`run --catalogue DIR` replays them).
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    #[command(flatten)]
    standing: StandingArgs,
}

pub(crate) fn proxy_command(args: ProxyArgs) -> Exit {
    use alipay_cancel_kit::proxy::{read_public_key, Proxy, ProxyConfig, Upstream};
    let admin_token = match args.standing.admin_token("proxy", args.host) {
        Ok(token) => token,
        Err(exit) => return exit,
    };
    let key = |path: &Option<PathBuf>, option: &str| match path {
        Some(path) => read_public_key(path)
            .map(Some)
            .map_err(|e| eprintln!("error: {option}: {e}")),
        None => Ok(None),
    };
    let (Ok(merchant_public), Ok(alipay_public)) = (
        key(&args.merchant_public_key, "--merchant-public-key"),
        key(&args.alipay_public_key, "--alipay-public-key"),
    ) else {
        return Exit::Usage;
    };
    let timeout = Duration::from_secs(args.upstream_timeout);
    let upstream = match Upstream::new(&args.upstream, args.upstream_ca.as_deref(), timeout) {
        Ok(upstream) => upstream,
        Err(e) => return fail(e),
    };
    let config = ProxyConfig {
        bind: std::net::SocketAddr::new(args.host, args.port),
        tls: if args.tls {
            TlsSetting::RunCa
        } else {
            TlsSetting::Off
        },
        upstream,
        merchant_public,
        alipay_public,
        violations_header: !args.standing.no_violations_header,
        journal_file: args.standing.journal.clone(),
        record_dir: args.record.clone(),
        journal_bound: 10_000,
        admin_token,
    };
    runtime().block_on(async move {
        run_session("proxy", Proxy::start(config).await, &args.standing).await
    })
}
