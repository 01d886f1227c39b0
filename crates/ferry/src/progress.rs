//! What an install shows while it works: a bar on stderr for terminals (never with `-q`), and at
//! `-v` a line per wheel saying where it came from and per distribution it replaces. Implements
//! the libraries' reporter traits, so they never print.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use ferry_install::fetch::{FetchReporter, FetchedWheel, WheelSource};
use ferry_install::{InstallReporter, InstalledDist, LockReporter};

use crate::printer::Printer;

/// Every bar and spinner of the process draws through this one, so that the fetch bar and
/// the build spinners share stderr without overwriting each other.
fn multi() -> &'static indicatif::MultiProgress {
    static MULTI: std::sync::OnceLock<indicatif::MultiProgress> = std::sync::OnceLock::new();
    MULTI.get_or_init(indicatif::MultiProgress::new)
}

pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    /// `--progress-bar raw`: pip's `Progress DONE of TOTAL` lines, in bytes, as each download
    /// goes, for tools reading them.
    raw: bool,
    printer: Printer,
}

impl Progress {
    /// Progress of fetching `total` wheels, in `--progress-bar` mode `mode` (`on`, `off`,
    /// `raw`).
    pub fn with_mode(printer: &Printer, total: usize, mode: &str) -> Arc<Self> {
        let show = mode == "on" && !printer.is_quiet() && std::io::stderr().is_terminal();
        let bar = show.then(|| {
            let bar = multi().add(indicatif::ProgressBar::new(total as u64));
            let style =
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix("Fetching");
            bar
        });
        let raw = mode == "raw" && !printer.is_quiet();
        Arc::new(Self {
            bar,
            raw,
            printer: printer.clone(),
        })
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn detail(&self, line: String) {
        match &self.bar {
            Some(_) => multi().suspend(|| self.printer.detail(line)),
            None => self.printer.detail(line),
        }
    }
}

impl FetchReporter for Progress {
    fn download_started(&self, name: &str, _size: Option<u64>) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_string());
        }
    }

    fn download_progress(&self, _name: &str, done: u64, total: Option<u64>) {
        if self.raw {
            self.printer
                .status(format!("Progress {done} of {}", total.unwrap_or(0)));
        }
    }

    fn download_finished(&self, _name: &str, _bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn ready(&self, source: &WheelSource, wheel: &FetchedWheel) {
        let line = match &wheel.provenance {
            Some(p) if wheel.cached => {
                let origin = match p.index.starts_with("built from") {
                    true => p.index.clone(),
                    false => format!("downloaded from {}", p.index),
                };
                let (name, version, date) = (&source.name, &source.version, p.date());
                format!("Using cached {name}-{version} ({origin} {date} UTC)")
            }
            _ if wheel.cached => format!("Using cached {}-{}", source.name, source.version),
            _ if source.url.scheme() == "file" => {
                format!("Unpacked {} ({})", source.filename, source.index)
            }
            _ => format!("Downloaded {} from {}", source.filename, source.index),
        };
        self.detail(line);
    }
}

impl InstallReporter for Progress {
    fn removing(&self, dist: &InstalledDist) {
        self.detail(format!(
            "Uninstalling {}-{} (replaced)",
            dist.name, dist.version
        ));
    }

    fn placing(&self, total: usize) {
        if let Some(bar) = &self.bar {
            bar.reset();
            bar.set_length(total as u64);
            bar.set_prefix("Installing");
            bar.set_message("");
        }
    }

    fn placed(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_string());
            bar.inc(1);
        }
    }
}

impl LockReporter for Printer {
    fn waiting(&self, dir: &Path) {
        self.status(format!(
            "Waiting for another ferry process to finish with {}",
            dir.display()
        ));
    }

    fn rolled_back(&self, count: usize, dir: &Path) {
        self.status(format!(
            "Rolled back {count} interrupted install(s) in {}",
            dir.display()
        ));
    }
}

/// What builds show: what they built, with `-v` each backend hook and its output, and on a
/// terminal (not with `-q` or `-v`, nor `--progress-bar off`) a spinner per build running.
pub struct BuildProgress {
    printer: Printer,
    spinners: Option<std::sync::Mutex<std::collections::HashMap<String, indicatif::ProgressBar>>>,
}

impl BuildProgress {
    pub fn new(printer: &Printer, progress: bool) -> Self {
        let show = progress
            && !printer.is_quiet()
            && !printer.is_verbose()
            && std::io::stderr().is_terminal();
        Self {
            printer: printer.clone(),
            spinners: show.then(Default::default),
        }
    }

    fn spinners(
        &self,
    ) -> Option<std::sync::MutexGuard<'_, std::collections::HashMap<String, indicatif::ProgressBar>>>
    {
        self.spinners
            .as_ref()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The spinner of `project`, made when its first hook starts.
    fn spin(&self, project: &str, hook: &str) {
        if let Some(mut spinners) = self.spinners() {
            let bar = spinners.entry(project.to_string()).or_insert_with(|| {
                let bar = multi().add(indicatif::ProgressBar::new_spinner());
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} Building {prefix}: {msg} ({elapsed})",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                bar.set_prefix(project.to_string());
                bar.set_message(hook.replace('_', " "));
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bar
            });
            bar.set_message(hook.replace('_', " "));
        }
    }

    fn stop(&self, project: &str) {
        if let Some(bar) = self.spinners().and_then(|mut s| s.remove(project)) {
            bar.finish_and_clear();
        }
    }

    /// A line for people, above any spinner.
    fn status(&self, line: String) {
        match self.spinners.is_some() {
            true => multi().suspend(|| self.printer.status(line)),
            false => self.printer.status(line),
        }
    }
}

impl Drop for BuildProgress {
    fn drop(&mut self) {
        if let Some(mut spinners) = self.spinners() {
            for (_, bar) in spinners.drain() {
                bar.finish_and_clear();
            }
        }
    }
}

impl ferry_build::BuildReporter for BuildProgress {
    fn hook_started(&self, project: &str, hook: &str) {
        self.spin(project, hook);
        ferry_build::BuildReporter::hook_started(&self.printer, project, hook);
    }

    fn environment_ready(&self, project: &str, elapsed: std::time::Duration) {
        ferry_build::BuildReporter::environment_ready(&self.printer, project, elapsed);
    }

    fn built(&self, project: &str, wheel: &Path, cached: bool) {
        self.stop(project);
        if cached {
            ferry_build::BuildReporter::built(&self.printer, project, wheel, cached);
        } else {
            let file = wheel.file_name().unwrap_or_default().to_string_lossy();
            self.status(format!("Built {file} from {project}"));
        }
    }

    fn kept(&self, project: &str, dir: &Path) {
        ferry_build::BuildReporter::kept(&self.printer, project, dir);
    }

    fn output_sink(&self) -> Option<ferry_build::OutputSink> {
        ferry_build::BuildReporter::output_sink(&self.printer)
    }
}

/// Builds say what they built; with `-v`, each backend hook they run and its output.
impl ferry_build::BuildReporter for Printer {
    fn hook_started(&self, project: &str, hook: &str) {
        self.detail(format!("Running the backend's {hook} for {project}"));
    }

    fn environment_ready(&self, project: &str, elapsed: std::time::Duration) {
        self.detail(format!(
            "Build environment of {project} ready in {} ms",
            elapsed.as_millis()
        ));
    }

    fn built(&self, project: &str, wheel: &Path, cached: bool) {
        let file = wheel.file_name().unwrap_or_default().to_string_lossy();
        if cached {
            self.detail(format!("Using the cached build of {project}: {file}"));
        } else {
            self.status(format!("Built {file} from {project}"));
        }
    }

    fn kept(&self, project: &str, dir: &Path) {
        self.status(format!(
            "Keeping the build directory of {project} (--no-clean): {}",
            dir.display()
        ));
    }

    fn output_sink(&self) -> Option<ferry_build::OutputSink> {
        let printer = self.clone();
        self.is_verbose()
            .then(|| Box::new(move |line: &str| printer.detail(format!("  | {line}"))) as _)
    }
}
