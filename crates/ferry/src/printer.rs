//! All terminal output of the binary goes through here: results to stdout, status and errors
//! to stderr, status silenced by `-q`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[derive(Debug, Clone)]
pub struct Printer {
    quiet: bool,
    verbose: bool,
}

impl Printer {
    pub fn new(quiet: u8, verbose: u8) -> Self {
        Self {
            quiet: quiet > 0,
            verbose: verbose > 0 && quiet == 0,
        }
    }

    /// Whether `-q` was given (progress bars stay hidden).
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Whether `-v` was given.
    pub fn is_verbose(&self) -> bool {
        self.verbose
    }

    /// A detail line shown with `-v` (stderr).
    pub fn detail(&self, line: impl std::fmt::Display) {
        if self.verbose {
            Self::to_stderr(line);
        }
    }

    /// A status line for people (stderr; hidden by `-q`).
    pub fn status(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            Self::to_stderr(line);
        }
    }

    /// A result for programs and pipes (stdout). When the reader has gone away (`| head`),
    /// the process ends quietly with success, as other command-line tools do.
    pub fn result(&self, line: impl std::fmt::Display) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if let Err(err) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            if err.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            // Nowhere left to report it; say so on stderr once and stop.
            let _ = writeln!(std::io::stderr(), "error: could not write to stdout: {err}");
            std::process::exit(1);
        }
    }

    /// A command's output document (`compile -o`, `--report`): written to `file` as the user
    /// expects an output file written (see [`ferry_cache::write_output`]), or printed as a
    /// result when there is none.
    pub fn write_or_print(
        &self,
        file: Option<impl AsRef<std::path::Path>>,
        text: &str,
    ) -> anyhow::Result<()> {
        use anyhow::Context;
        match file {
            Some(path) => {
                let path = path.as_ref();
                ferry_cache::write_output(path, text.as_bytes())
                    .with_context(|| format!("could not write {}", path.display()))
            }
            None => {
                self.result(text.trim_end());
                Ok(())
            }
        }
    }

    /// A warning for people (stderr; shown with `-q` too, as pip's warnings are).
    pub fn warning(&self, text: impl std::fmt::Display) {
        Self::to_stderr(format!("warning: {text}"));
    }

    /// An error and its causes as one paragraph (stderr; never hidden).
    pub fn error(&self, err: &anyhow::Error) {
        let mut text = format!("error: {err}");
        for cause in err.chain().skip(1) {
            let cause = cause.to_string();
            // thiserror messages often repeat their source; skip what is already said.
            if !text.contains(&cause) {
                text.push_str(&format!("\n  caused by: {cause}"));
            }
        }
        Self::to_stderr(text);
    }

    /// stderr output; a closed stderr is ignored rather than fatal.
    fn to_stderr(line: impl std::fmt::Display) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}
