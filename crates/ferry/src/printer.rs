//! All terminal output of the binary goes through here: results to stdout, status and errors
//! to stderr, status silenced by `-q`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub struct Printer {
    quiet: bool,
}

impl Printer {
    pub fn new(quiet: u8) -> Self {
        Self { quiet: quiet > 0 }
    }

    /// A status line for people (stderr; hidden by `-q`).
    pub fn status(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// A result for programs and pipes (stdout).
    pub fn result(&self, line: impl std::fmt::Display) {
        println!("{line}");
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
        eprintln!("{text}");
    }
}
