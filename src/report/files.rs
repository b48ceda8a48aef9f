//! The report files a command was asked for (`--report-json`, `--junit`, `--markdown`,
//! `--html`), written in one place so every command writes them, and fails on them, alike.

use std::path::{Path, PathBuf};

use super::RunReport;

/// Where to write each report form; `None` skips it.
///
/// Also the report-file options of every command that writes reports (`run`, `fuzz`,
/// `report merge`, `serve`, `proxy`), declared once here and flattened into each
/// (`#[command(flatten)]`); a command words an option for itself with `mut_arg`.
#[derive(clap::Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportFiles {
    /// Write the JSON report (schema/report.schema.json) to FILE.
    #[arg(long = "report-json", id = "report_json", value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a markdown report to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write a self-contained HTML report (checks and transcripts) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// How the HTML page is made (where its rule references link to).
    #[command(flatten)]
    pub html_options: super::html::Options,
}

/// A report file could not be written (exit code 2).
#[derive(Debug)]
pub struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write {}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// A report renderer: the JSON, JUnit, markdown or HTML form of a run.
type Render<'a> = Box<dyn Fn(&RunReport) -> String + 'a>;

/// Writes `text` to `path`.
///
/// # Errors
/// [`WriteError`] naming the file.
pub fn write(path: &Path, text: impl AsRef<[u8]>) -> Result<(), WriteError> {
    std::fs::write(path, text).map_err(|source| WriteError {
        path: path.to_owned(),
        source,
    })
}

impl ReportFiles {
    /// Writes each report asked for, in the order JSON, JUnit, markdown, HTML.
    ///
    /// # Errors
    /// [`WriteError`] for the first file that cannot be written; the ones after it are not.
    pub fn write(&self, report: &RunReport) -> Result<(), WriteError> {
        let forms: [(&Option<PathBuf>, Render<'_>); 4] = [
            (&self.json, Box::new(super::json::to_string)),
            (&self.junit, Box::new(super::junit::render)),
            (&self.markdown, Box::new(super::markdown::render)),
            (
                &self.html,
                Box::new(|r: &RunReport| super::html::render_with(r, &self.html_options)),
            ),
        ];
        for (path, render) in forms {
            if let Some(path) = path {
                write(path, render(report))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_file_that_cannot_be_written_is_named_with_its_cause() {
        let files = ReportFiles {
            json: Some(PathBuf::from("/nonexistent-dir/report.json")),
            ..ReportFiles::default()
        };
        let err = files
            .write(&RunReport::new("c", "exec", Vec::new()))
            .unwrap_err();
        assert!(err
            .to_string()
            .starts_with("cannot write /nonexistent-dir/report.json: "));
        assert!(err.source().is_some());
    }
}
