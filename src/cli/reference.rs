//! `reference-adapter`: the built-in client behind the adapter protocol, with switchable
//! defects for the kit's own sensitivity tests.

use alipay_cancel_kit::capability::{IdKind, Ids};
use alipay_cancel_kit::exit::Exit;
use alipay_cancel_kit::reference_client::{self, Behaviour, Defect, Style};

#[derive(clap::Args)]
pub(crate) struct ReferenceAdapterArgs {
    /// Switch on a deliberate defect (for the kit's sensitivity tests). Repeatable.
    #[arg(long = "defect", value_enum)]
    defects: Vec<Defect>,
    /// Write outcomes as some correct clients do: `nulls` (absent members as null), `millis` or
    /// `micros` (cancelTime kept to that). Repeatable.
    #[arg(long = "style", value_enum)]
    styles: Vec<Style>,
    /// Print the adapter's capabilities as a JSON array and exit.
    #[arg(long)]
    capabilities: bool,
    /// Send only this kind of id, and declare it (a client that cancels by one kind of id).
    /// Repeatable; without it the client sends all three and declares none.
    #[arg(long = "id", value_enum, value_name = "KIND")]
    ids: Vec<IdKind>,
}

pub(crate) fn reference_adapter(args: &ReferenceAdapterArgs) -> Exit {
    let ids = Ids::only(args.ids.iter().copied());
    if args.capabilities {
        println!(
            "{}",
            serde_json::to_string(&reference_client::capabilities(ids)).unwrap_or_default()
        );
        return Exit::Ok;
    }
    let behaviour = behaviour(&args.defects, &args.styles);
    // One instruction at a time: a single-threaded runtime spares the context switches of a
    // worker pool, which adds up when a persistent run keeps a process per job.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let served = runtime.block_on(reference_client::serve_adapter(&behaviour, ids));
    // A crash ends the adapter at once, as a panic would: no waiting on a read of standard
    // input the runtime may still have under way.
    runtime.shutdown_background();
    match served {
        Ok(()) => Exit::Ok,
        Err(crash @ reference_client::AdapterError::Crash(_)) => {
            eprintln!("{crash}");
            Exit::Crashed
        }
        Err(e) => {
            eprintln!("reference adapter: {e}");
            Exit::Failures
        }
    }
}

pub(crate) fn behaviour(defects: &[Defect], styles: &[Style]) -> Behaviour {
    Behaviour {
        defects: defects.iter().copied().collect(),
        styles: styles.iter().copied().collect(),
    }
}
