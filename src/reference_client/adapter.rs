//! The adapter protocol on standard input and output: `alipay-cancel-kit reference-adapter`.

use crate::capability::Ids;
use crate::protocol::{Instruction, Outcome, OutcomeKind};

use super::{cancel, narrowed, outcome_line, AdapterError, Behaviour};

type Input = std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>;
type Output = std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>;

/// Standard input and output for the adapter protocol. tokio's `stdin` and `stdout` hand
/// every read and write to a thread of the blocking pool and back, a round trip per line each
/// way; when they are pipes (as the kit starts adapters) they are read and written in place,
/// like any socket, instead.
fn standard_streams() -> (Input, Output) {
    use std::os::fd::AsFd as _;
    use tokio::net::unix::pipe;
    let input = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .and_then(pipe::Receiver::from_owned_fd);
    let output = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .and_then(pipe::Sender::from_owned_fd);
    (
        match input {
            Ok(pipe) => Box::pin(pipe),
            Err(_) => Box::pin(tokio::io::stdin()),
        },
        match output {
            Ok(pipe) => Box::pin(pipe),
            Err(_) => Box::pin(tokio::io::stdout()),
        },
    )
}

/// Serves the adapter protocol on standard input and output, for as many instructions as
/// arrive (so it works in exec and persistent mode alike), sending only the ids in `ids`.
///
/// # Errors
/// [`AdapterError::Io`] when standard input or output fails; [`AdapterError::Crash`] when a
/// crash defect is triggered (the caller exits with [`Exit::Crashed`], as a panic would).
///
/// [`Exit::Crashed`]: crate::exit::Exit::Crashed
pub async fn serve_adapter(behaviour: &Behaviour, ids: Ids) -> Result<(), AdapterError> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (input, mut stdout) = standard_streams();
    let mut lines = BufReader::new(input).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let outcome = match serde_json::from_str::<Instruction>(&line) {
            Ok(instruction) => match cancel(&narrowed(&instruction, ids), behaviour).await {
                Ok(o) => o,
                Err(crash) => return Err(AdapterError::Crash(crash)),
            },
            Err(e) => Outcome::bare(OutcomeKind::Unknown, format!("unreadable instruction: {e}")),
        };
        let mut text = outcome_line(&outcome, &behaviour.styles);
        text.push('\n');
        stdout.write_all(text.as_bytes()).await?;
        stdout.flush().await?;
    }
    Ok(())
}
