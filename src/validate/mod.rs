//! `alipay-cancel-kit validate`: checks cancel request and response bodies from files,
//! standard input and newline-delimited JSON streams.
//!
//! Input is read as a stream, through a window of a little over [`MAX_BODY_BYTES`], and split
//! into JSON documents: one body per line (NDJSON), a pretty-printed body over several lines,
//! or captured traffic lines
//! `{"request": ..., "response": ...}` (each part a JSON body or a string holding the raw
//! body). A body's kind is `--kind`, else detected: a body with `result` or `cancelTime` is
//! a response, anything else a request. Each body is checked by the Rust types
//! ([`crate::spec`]); with `--schema` also by the JSON Schema, and either rejecting makes
//! it invalid.
//!
//! Text output, one line per problem, on standard output:
//! `FILE:LINE: POINTER: RULE: MESSAGE` (`POINTER` is `(root)` for the whole body; a warning's
//! message starts with `warning:`). A summary goes to standard error. `--format json`
//! prints one JSON object per body with problems and a final summary object instead.
//!
//! Memory stays bounded whatever the input: a line longer than [`MAX_BODY_BYTES`] (even an
//! endless one without a line break) is reported as too large while it streams past, and
//! validation goes on at the next line.
//!
//! Exit status: 0 every body valid (warnings allowed), 1 some body invalid (a line that is
//! not JSON, not UTF-8 or larger than [`MAX_BODY_BYTES`] is an invalid body), 2 a file
//! that cannot be read, is empty, or a usage error. When standard output is closed early
//! (`validate big.ndjson | head`), validation stops quietly with the status of the bodies
//! read so far, as command-line tools do on a closed pipe.

use crate::exit::Exit;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::schema::Schema;
use crate::spec::{join_pointer, CancelRequest, CancelResponse, Rule, SpecError, SpecErrors};

mod document;
mod window;

use document::{next_document, too_large, traffic_parts};
use window::Window;

/// The largest body checked, in bytes; a larger one is reported, not parsed. Real cancel
/// bodies are well under a kilobyte.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Which body a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A cancel request body.
    Request,
    /// A cancel response body.
    Response,
}

impl Kind {
    /// `request` or `response`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Response => "response",
        }
    }

    /// The kind of a body without `--kind`: a response has `result` or `cancelTime`.
    pub fn detect(body: &Value) -> Kind {
        match body {
            Value::Object(m) if m.contains_key("result") || m.contains_key("cancelTime") => {
                Kind::Response
            }
            _ => Kind::Request,
        }
    }

    fn schema(self) -> Schema {
        match self {
            Kind::Request => Schema::Request,
            Kind::Response => Schema::Response,
        }
    }
}

/// How problems are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// `FILE:LINE: POINTER: RULE: MESSAGE` lines.
    #[default]
    Text,
    /// One JSON object per body with problems, then `{"summary": ...}`.
    Json,
}

/// The arguments of `validate`.
#[derive(Clone, Debug, clap::Args)]
pub struct ValidateArgs {
    /// Files of bodies: one JSON body, or one body per line (NDJSON), or captured traffic
    /// lines `{"request": ..., "response": ...}`; `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The kind of every body; detected per body when absent (`result` or `cancelTime`
    /// makes a response). On traffic lines, checks only that part.
    #[arg(long, value_enum)]
    pub kind: Option<Kind>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also check every body against the JSON Schema (`schema/cancel-*.schema.json`) and
    /// print its violations (keyword and message).
    #[arg(long)]
    pub schema: bool,
}

/// Counts over one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidationSummary {
    /// Bodies seen (a traffic line with both parts counts two).
    pub bodies: usize,
    /// Bodies that broke a rule.
    pub invalid: usize,
    /// Warnings (unknown request members).
    pub warnings: usize,
    /// Files that could not be read or were empty.
    pub unreadable: usize,
}

impl ValidationSummary {
    /// The exit status: [`Exit::Usage`] (2) for unreadable input, else
    /// [`Exit::Failures`] (1) for any invalid body, else [`Exit::Ok`].
    pub fn exit_code(&self) -> Exit {
        if self.unreadable > 0 {
            Exit::Usage
        } else {
            Exit::from_failures(self.invalid > 0)
        }
    }
}

/// Runs `validate`, reading `-` from the process's standard input. Returns the exit status.
pub fn run(args: &ValidateArgs, out: &mut impl Write, err: &mut impl Write) -> Exit {
    run_with_stdin(args, io::stdin().lock(), out, err)
}

/// Runs `validate` with `stdin` standing for `-`. Returns the exit status; a failure to
/// write the output is status 2, except a closed pipe (`| head`), which ends the run quietly
/// with the status of the bodies read so far.
pub fn run_with_stdin(
    args: &ValidateArgs,
    stdin: impl Read,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Exit {
    let mut stdin = Some(stdin);
    let mut validator = Validation {
        args,
        summary: ValidationSummary::default(),
        out,
    };
    let mut write_failed = None;
    for path in &args.files {
        let name = path.display().to_string();
        let outcome = if name == "-" {
            match stdin.take() {
                Some(reader) => validator.stream(err, &name, reader),
                None => validator.unreadable(err, &name, "cannot read: standard input named twice"),
            }
        } else {
            match File::open(path) {
                Ok(file) => validator.stream(err, &name, file),
                Err(e) => validator.unreadable(err, &name, &describe_io(&e)),
            }
        };
        if let Err(e) = outcome {
            write_failed = Some(e);
            break;
        }
    }
    let summary = validator.summary;
    if let Some(e) = &write_failed {
        if e.kind() == io::ErrorKind::BrokenPipe {
            // The reader went away (`| head`): stop quietly, as command-line tools do.
            return summary.exit_code();
        }
    }
    let closing = match write_failed {
        Some(e) => Err(e),
        None => closing_line(args, summary, validator.out, err),
    };
    match closing.and_then(|()| validator.out.flush()) {
        Ok(()) => summary.exit_code(),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => summary.exit_code(),
        Err(e) => {
            let _ = writeln!(err, "alipay-cancel-kit validate: cannot write output: {e}");
            Exit::Usage
        }
    }
}

/// The summary: a line on standard error (text), or a last JSON object on standard output.
fn closing_line(
    args: &ValidateArgs,
    summary: ValidationSummary,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<()> {
    match args.format {
        Format::Text => writeln!(
            err,
            "{} bodies, {} invalid, {} warnings{}",
            summary.bodies,
            summary.invalid,
            summary.warnings,
            if summary.unreadable > 0 {
                format!(", {} unreadable inputs", summary.unreadable)
            } else {
                String::new()
            }
        ),
        Format::Json => writeln!(
            out,
            "{}",
            json!({"summary": {
                "bodies": summary.bodies,
                "valid": summary.bodies - summary.invalid,
                "invalid": summary.invalid,
                "warnings": summary.warnings,
                "unreadable": summary.unreadable,
            }})
        ),
    }
}

fn describe_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "cannot read: no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "cannot read: permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "cannot read: is a directory".to_owned(),
        _ if e.raw_os_error() == Some(21) => "cannot read: is a directory".to_owned(),
        _ => format!("cannot read: {e}"),
    }
}

/// One problem of one body.
struct Problem {
    pointer: String,
    rule: String,
    message: String,
    warning: bool,
}

struct Validation<'a, W: Write> {
    args: &'a ValidateArgs,
    summary: ValidationSummary,
    out: &'a mut W,
}

impl<W: Write> Validation<'_, W> {
    fn unreadable(&mut self, err: &mut impl Write, name: &str, why: &str) -> io::Result<()> {
        self.summary.unreadable += 1;
        match self.args.format {
            Format::Text => writeln!(err, "{name}: {why}"),
            Format::Json => writeln!(self.out, "{}", json!({"file": name, "error": why})),
        }
    }

    /// Reads one input through a bounded window, splits it into JSON documents and checks
    /// each; after a syntax error, resumes on the next line. A read error or an empty input
    /// makes the input unreadable; only a failure to write the output is an `Err`.
    fn stream(&mut self, err: &mut impl Write, name: &str, reader: impl Read) -> io::Result<()> {
        let mut input = Window::new(reader);
        match self.documents(name, &mut input) {
            Ok(()) if !input.seen_any => {
                self.unreadable(err, name, "empty input: no body to validate")
            }
            Ok(()) => Ok(()),
            Err(StreamError::Read(e)) => self.unreadable(err, name, &describe_io(&e)),
            Err(StreamError::Write(e)) => Err(e),
        }
    }

    fn documents(&mut self, name: &str, input: &mut Window<impl Read>) -> Result<(), StreamError> {
        let write = StreamError::Write;
        loop {
            // Skip whitespace between documents.
            if !input.skip_whitespace()? {
                return Ok(());
            }
            let line = input.line;
            // The first line of the document, unless it is longer than any body may be.
            let Some(line_len) = input.line_len()? else {
                let found = input.discard_line()?;
                self.report_unparsed(name, line, None, too_large(found))
                    .map_err(write)?;
                continue;
            };
            input.fill_window()?;
            let bytes = input.rest();
            match next_document(bytes, line_len) {
                Ok((value, used)) => {
                    if used > MAX_BODY_BYTES {
                        self.report_unparsed(name, line, None, too_large(used))
                            .map_err(write)?;
                    } else {
                        self.value(name, line, &value).map_err(write)?;
                    }
                    input.consume(used);
                }
                Err((error, used)) => {
                    let segment = &bytes[..line_len];
                    let error = match std::str::from_utf8(segment) {
                        Err(utf8) => SpecError::NotUtf8 {
                            line: 1,
                            column: utf8.valid_up_to() + 1,
                            byte: segment[utf8.valid_up_to()],
                        },
                        Ok(_) => error,
                    };
                    self.report_unparsed(name, line, None, error)
                        .map_err(write)?;
                    input.consume(used);
                }
            }
        }
    }

    /// One top-level document: a body, or a traffic record of two bodies.
    fn value(&mut self, name: &str, line: usize, value: &Value) -> io::Result<()> {
        if let Some(parts) = traffic_parts(value) {
            for (kind, part) in parts {
                if self.args.kind.is_some_and(|k| k != kind) {
                    continue;
                }
                let prefix = join_pointer("", kind.as_str());
                match part {
                    Value::String(raw) => match crate::spec::member::parse_json(raw.as_bytes()) {
                        Ok(body) => self.body(name, line, kind, &body, &prefix)?,
                        Err(e) => self.report_unparsed(name, line, Some((kind, &prefix)), e)?,
                    },
                    body => self.body(name, line, kind, body, &prefix)?,
                }
            }
            return Ok(());
        }
        let kind = self.args.kind.unwrap_or_else(|| Kind::detect(value));
        self.body(name, line, kind, value, "")
    }

    fn body(
        &mut self,
        name: &str,
        line: usize,
        kind: Kind,
        body: &Value,
        prefix: &str,
    ) -> io::Result<()> {
        let mut problems = Vec::new();
        let typed: Result<Vec<_>, SpecErrors> = match kind {
            Kind::Request => CancelRequest::check_value(body).map(|(_, warnings)| {
                warnings
                    .into_iter()
                    .map(|w| Problem {
                        pointer: w.pointer().to_owned(),
                        rule: w.rule().to_string(),
                        message: w.message(),
                        warning: true,
                    })
                    .collect()
            }),
            Kind::Response => CancelResponse::from_value(body).map(|_| Vec::new()),
        };
        match typed {
            Ok(warnings) => problems.extend(warnings),
            Err(errors) => problems.extend(errors.iter().map(problem_of)),
        }
        if self.args.schema {
            problems.extend(kind.schema().violations(body).into_iter().map(|v| {
                let rule = v
                    .rule()
                    .map_or_else(|| v.keyword.clone(), |r| r.to_string());
                Problem {
                    pointer: v.pointer,
                    rule: format!("{rule} (schema {})", v.keyword),
                    message: v.message,
                    warning: false,
                }
            }));
        }
        for problem in &mut problems {
            problem.pointer.insert_str(0, prefix);
        }
        self.emit(name, line, kind, problems)
    }

    fn report_unparsed(
        &mut self,
        name: &str,
        line: usize,
        part: Option<(Kind, &str)>,
        error: SpecError,
    ) -> io::Result<()> {
        let (kind, prefix) = part.map_or((None, ""), |(k, p)| (Some(k), p));
        let problem = Problem {
            pointer: prefix.to_owned(),
            rule: Rule::Json.to_string(),
            message: error.message(),
            warning: false,
        };
        self.emit_any(name, line, kind, vec![problem])
    }

    fn emit(
        &mut self,
        name: &str,
        line: usize,
        kind: Kind,
        problems: Vec<Problem>,
    ) -> io::Result<()> {
        self.emit_any(name, line, Some(kind), problems)
    }

    fn emit_any(
        &mut self,
        name: &str,
        line: usize,
        kind: Option<Kind>,
        problems: Vec<Problem>,
    ) -> io::Result<()> {
        self.summary.bodies += 1;
        let invalid = problems.iter().any(|p| !p.warning);
        self.summary.invalid += usize::from(invalid);
        self.summary.warnings += problems.iter().filter(|p| p.warning).count();
        if problems.is_empty() {
            return Ok(());
        }
        match self.args.format {
            Format::Text => {
                let mut text = String::new();
                for p in &problems {
                    let pointer = if p.pointer.is_empty() {
                        "(root)"
                    } else {
                        &p.pointer
                    };
                    let _ = writeln!(
                        text,
                        "{name}:{line}: {pointer}: {}: {}{}",
                        p.rule,
                        if p.warning { "warning: " } else { "" },
                        p.message
                    );
                }
                self.out.write_all(text.as_bytes())
            }
            Format::Json => {
                let list = |warning: bool| -> Vec<Value> {
                    problems
                        .iter()
                        .filter(|p| p.warning == warning)
                        .map(
                            |p| json!({"pointer": p.pointer, "rule": p.rule, "message": p.message}),
                        )
                        .collect()
                };
                let record = json!({
                    "file": name,
                    "line": line,
                    "kind": kind.map(Kind::as_str),
                    "valid": !invalid,
                    "errors": list(false),
                    "warnings": list(true),
                });
                writeln!(self.out, "{record}")
            }
        }
    }
}

fn problem_of(e: &SpecError) -> Problem {
    Problem {
        pointer: e.pointer().to_owned(),
        rule: e.rule().to_string(),
        message: e.message(),
        warning: false,
    }
}

/// Why reading an input stopped: the input could not be read, or the output not written.
enum StreamError {
    Read(io::Error),
    Write(io::Error),
}

impl From<io::Error> for StreamError {
    fn from(e: io::Error) -> StreamError {
        StreamError::Read(e)
    }
}

/// The text line printed for one error of one body, as `validate` writes it.
pub fn format_error(file: &str, line: usize, error: &SpecError) -> String {
    let pointer = if error.pointer().is_empty() {
        "(root)"
    } else {
        error.pointer()
    };
    format!(
        "{file}:{line}: {pointer}: {}: {}",
        error.rule(),
        error.message()
    )
}
