//! `ferry list`: the installed packages in `pip list`'s formats, optionally with the newest
//! version the index offers.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use ferry_cache::Cache;
use ferry_index::{DistFilename, IndexClient, IndexError};
use ferry_install::InstalledDist;
use ferry_python::Interpreter;
use pep440_rs::Version;

use crate::cli::IndexArgs;
use crate::printer::Printer;
use ferry_install::inspect;

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only packages with a newer version on the index (adds the `Latest` and `Type` columns)
    #[arg(short, long)]
    pub outdated: bool,
    /// Only packages at the newest version the index offers
    #[arg(short, long)]
    pub uptodate: bool,
    /// Only editable installs
    #[arg(short, long)]
    pub editable: bool,
    /// Leave out editable installs
    #[arg(long, overrides_with = "include_editable")]
    pub exclude_editable: bool,
    /// Include editable installs (the default)
    #[arg(long, overrides_with = "exclude_editable")]
    pub include_editable: bool,
    /// Only packages that no other listed package depends on
    #[arg(long)]
    pub not_required: bool,
    /// Leave out this package (repeatable)
    #[arg(long, value_name = "PACKAGE")]
    pub exclude: Vec<String>,
    /// With --outdated/--uptodate: compare with pre-releases too
    #[arg(long)]
    pub pre: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "columns")]
    pub format: ListFormat,
    /// List the packages installed in this directory instead (repeatable)
    #[arg(long, value_name = "DIR")]
    pub path: Vec<PathBuf>,
    /// Only the environment's own packages (always the case: ferry does not list the base
    /// interpreter's packages of an environment with system site packages)
    #[arg(short, long, conflicts_with = "path")]
    pub local: bool,
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
    #[command(flatten)]
    pub index: IndexArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Columns,
    Freeze,
    Json,
}

/// One listed package.
struct Row<'a> {
    dist: &'a InstalledDist,
    editable: Option<String>,
    /// With --outdated/--uptodate: the newest version and whether it is a wheel or an sdist.
    latest: Option<(Version, &'static str)>,
}

/// `verbose` is the global `-v` count: with it, pip adds each package's location and installer.
pub fn run(
    args: &ListArgs,
    config: &ferry_input::PipConfig,
    verbose: u8,
    cache: &Cache,
    runtime: &tokio::runtime::Runtime,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let layer = config.layer("list");
    if args.outdated && args.uptodate {
        bail!("Options --outdated and --uptodate cannot be combined.");
    }
    if args.outdated && args.format == ListFormat::Freeze {
        bail!("List format 'freeze' cannot be used with the --outdated option.");
    }
    let interpreter = crate::settings::read_target(args.python.as_deref(), config, "list", cache)?;
    let dists = ferry_install::scan(&inspect::site_dirs(&interpreter, &args.path));
    let skip: Vec<String> = args
        .exclude
        .iter()
        .map(|n| ferry_input::normalize_name(n))
        .collect();
    let mut rows: Vec<Row> = dists
        .iter()
        .filter(|d| !inspect::is_skipped(d, &skip))
        .map(|dist| Row {
            dist,
            editable: inspect::editable_location(dist),
            latest: None,
        })
        .filter(|row| !(args.exclude_editable && row.editable.is_some()))
        .filter(|row| !args.editable || row.editable.is_some())
        .collect();

    // Whether a package is required is decided among the listed packages only, before any
    // comparison with the index.
    if args.not_required {
        let env = interpreter
            .markers()
            .to_pep508()
            .map_err(anyhow::Error::msg)?;
        let required: HashSet<String> = rows
            .iter()
            .flat_map(|row| inspect::dependencies(row.dist, &env))
            .map(|dep| dep.normalized)
            .collect();
        rows.retain(|row| !required.contains(&row.dist.normalized));
    }

    if args.outdated || args.uptodate {
        let client = ferry_index::client_for(
            &crate::settings::index_options(&args.index, layer)?,
            interpreter.info().pip_default_index.as_deref(),
            &interpreter.path().display().to_string(),
            Some(cache),
        )?;
        let pre = layer.switch(args.pre, "pre")?;
        let latest =
            runtime.block_on(latest_versions(&client, &interpreter, &rows, pre, printer))?;
        rows = rows
            .into_iter()
            .zip(latest)
            .filter_map(|(mut row, latest)| {
                let latest = latest?;
                let installed = inspect::parse_version(&row.dist.version)?;
                let keep = if args.outdated {
                    latest.0 > installed
                } else {
                    latest.0 == installed
                };
                row.latest = Some(latest);
                keep.then_some(row)
            })
            .collect();
    }

    // pip orders by normalized name (its `canonical_name`).
    rows.sort_by(|a, b| a.dist.normalized.cmp(&b.dist.normalized));
    match args.format {
        ListFormat::Columns => print_columns(&rows, args.outdated, verbose, printer),
        ListFormat::Freeze => {
            for row in &rows {
                let version = inspect::version_text(&row.dist.version);
                if verbose > 0 {
                    printer.result(format!(
                        "{}=={version} ({})",
                        row.dist.name,
                        row.dist.location.display()
                    ));
                } else {
                    printer.result(format!("{}=={version}", row.dist.name));
                }
            }
        }
        ListFormat::Json => {
            let objects: Vec<Vec<(&str, String)>> = rows
                .iter()
                .map(|row| {
                    let mut fields = vec![
                        ("name", row.dist.name.clone()),
                        ("version", inspect::version_text(&row.dist.version)),
                    ];
                    if verbose > 0 {
                        fields.push(("location", row.dist.location.display().to_string()));
                        fields.push(("installer", row.dist.installer().unwrap_or_default()));
                    }
                    if let (true, Some((version, kind))) = (args.outdated, &row.latest) {
                        fields.push(("latest_version", version.to_string()));
                        fields.push(("latest_filetype", (*kind).to_string()));
                    }
                    if let Some(location) = &row.editable {
                        fields.push(("editable_project_location", location.clone()));
                    }
                    fields
                })
                .collect();
            printer.result(inspect::json_objects(&objects));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// pip's table: a header, a line of dashes, columns left-aligned to their widest cell and
/// separated by one space, trailing blanks trimmed. Nothing at all when nothing is listed.
fn print_columns(rows: &[Row], outdated: bool, verbose: u8, printer: &Printer) {
    if rows.is_empty() {
        return;
    }
    let has_editables = rows.iter().any(|r| r.editable.is_some());
    let mut table: Vec<Vec<String>> = Vec::with_capacity(rows.len() + 1);
    let mut header = vec!["Package", "Version"];
    if outdated {
        header.extend(["Latest", "Type"]);
    }
    if has_editables {
        header.push("Editable project location");
    }
    if verbose > 0 {
        header.extend(["Location", "Installer"]);
    }
    table.push(header.into_iter().map(String::from).collect());
    for row in rows {
        // The columns show the version as the metadata spells it.
        let mut cells = vec![
            row.dist.name.clone(),
            row.dist
                .raw_field("Version")
                .unwrap_or_else(|| row.dist.version.clone()),
        ];
        if outdated {
            let (version, kind) = row.latest.as_ref().expect("outdated rows have a latest");
            cells.push(version.to_string());
            cells.push((*kind).to_string());
        }
        if has_editables {
            cells.push(row.editable.clone().unwrap_or_default());
        }
        if verbose > 0 {
            cells.push(row.dist.location.display().to_string());
            cells.push(row.dist.installer().unwrap_or_default());
        }
        table.push(cells);
    }
    let columns = table[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join(" ").trim_end().to_string()
    };
    printer.result(line(&table[0]));
    printer.result(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join(" "),
    );
    for cells in &table[1..] {
        printer.result(line(cells));
    }
}

/// For each row, the newest version the index offers the interpreter (pip's best candidate:
/// not yanked, a compatible wheel or an sdist, no pre-release unless `pre`) and whether that
/// version's best file is a wheel. `None` when the index has nothing suitable.
async fn latest_versions(
    client: &IndexClient,
    interpreter: &Interpreter,
    rows: &[Row<'_>],
    pre: bool,
    printer: &Printer,
) -> anyhow::Result<Vec<Option<(Version, &'static str)>>> {
    let target = ferry_resolve::Target::from_interpreter(interpreter)?;
    let projects =
        futures::future::join_all(rows.iter().map(|row| client.project(&row.dist.name))).await;
    let mut out = Vec::with_capacity(rows.len());
    for (row, project) in rows.iter().zip(projects) {
        let project = match project {
            Ok(project) => project,
            Err(IndexError::NotFound { .. }) => {
                out.push(None);
                continue;
            }
            Err(err) => {
                // Like pip, one unreachable project does not stop the listing.
                printer.status(format!(
                    "warning: could not look up {} on the index: {}",
                    row.dist.name,
                    anyhow::Error::new(err)
                        .chain()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(": ")
                ));
                out.push(None);
                continue;
            }
        };
        let best = project
            .files
            .iter()
            .filter(|f| f.file.yanked.is_none())
            .filter(|f| target.file_rank(f).is_some())
            .filter(|f| pre || !f.name.version().any_prerelease())
            .map(|f| (f.name.version(), matches!(f.name, DistFilename::Wheel(_))))
            .max();
        out.push(
            best.map(|(version, wheel)| (version.clone(), if wheel { "wheel" } else { "sdist" })),
        );
    }
    Ok(out)
}
