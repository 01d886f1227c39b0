//! `ferry cache`: what is in the cache, where each entry came from, and removing it.

use std::process::ExitCode;

use anyhow::{bail, Context};
use ferry_cache::Cache;
use ferry_install::inventory::{self, Entry, Kind};

use crate::cli::CacheCommand;
use crate::printer::Printer;

pub fn run(command: &CacheCommand, cache: &Cache, printer: &Printer) -> anyhow::Result<ExitCode> {
    match command {
        CacheCommand::Dir => printer.result(cache.root().display()),
        CacheCommand::Info => {
            printer.result(format!("Cache location: {}", cache.root().display()));
            let buckets = inventory::info(cache);
            let width = buckets.iter().map(|b| b.name.len()).max().unwrap_or(0);
            for bucket in &buckets {
                printer.result(format!(
                    "{:<width$}  {:>10}  {:>6} entries  {}",
                    bucket.name,
                    human_size(bucket.size),
                    bucket.entries,
                    bucket.path.display()
                ));
            }
            let total: u64 = buckets.iter().map(|b| b.size).sum();
            printer.result(format!("{:<width$}  {:>10}", "total", human_size(total)));
        }
        CacheCommand::List {
            pattern,
            format,
            kind,
        } => {
            let entries = select(cache, pattern.as_deref(), kind)?;
            if format == "json" {
                printer.result(serde_json::to_string_pretty(&entries)?);
            } else {
                for line in table(&entries) {
                    printer.result(line);
                }
            }
        }
        CacheCommand::Remove { pattern, kind } => {
            let _lock = exclusive(cache, printer)?;
            let entries = select(cache, Some(pattern), kind)?;
            let (removed, freed) = inventory::remove(&entries)
                .with_context(|| format!("could not remove from {}", cache.root().display()))?;
            if removed == 0 {
                printer.status(format!("No cache entries match `{pattern}`"));
            } else {
                printer.status(format!(
                    "Removed {removed} {} ({})",
                    if removed == 1 { "entry" } else { "entries" },
                    human_size(freed)
                ));
            }
        }
        CacheCommand::Prune { older_than } => {
            let _lock = exclusive(cache, printer)?;
            let mut paths = inventory::leftovers(cache);
            if let Some(days) = older_than {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let cutoff = now.saturating_sub(days.saturating_mul(86_400));
                for entry in inventory::list(cache) {
                    if entry.last_used < cutoff {
                        if entry.kind == Kind::Wheel {
                            paths.push(entry.path.with_extension("json"));
                        }
                        paths.push(entry.path);
                    }
                }
            }
            let (removed, freed) = inventory::remove_paths(&paths)
                .with_context(|| format!("could not prune {}", cache.root().display()))?;
            printer.status(format!(
                "Pruned {removed} {} ({})",
                if removed == 1 { "entry" } else { "entries" },
                human_size(freed)
            ));
        }
        CacheCommand::Purge => {
            let _lock = exclusive(cache, printer)?;
            let root = cache.root();
            let mut removed = 0;
            let mut freed = 0;
            if let Ok(children) = fs_err::read_dir(root) {
                for child in children.flatten() {
                    let path = child.path();
                    // The cache's tag and lock stay; every bucket goes.
                    if child.file_name() == "CACHEDIR.TAG"
                        || child.file_name() == ferry_cache::LOCK_FILE
                    {
                        continue;
                    }
                    freed += inventory::disk_size(&path);
                    let result = if path.is_dir() {
                        fs_err::remove_dir_all(&path)
                    } else {
                        fs_err::remove_file(&path)
                    };
                    result.with_context(|| format!("could not purge {}", root.display()))?;
                    removed += 1;
                }
            }
            printer.status(format!(
                "Purged {} ({removed} {})",
                human_size(freed),
                if removed == 1 { "bucket" } else { "buckets" }
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The cache's exclusive lock: no other ferry process is using the cache while it is held.
fn exclusive(cache: &Cache, printer: &Printer) -> anyhow::Result<Option<std::fs::File>> {
    Ok(cache.lock_exclusive(|| {
        printer.status("Waiting for other ferry processes to finish with the cache...");
    })?)
}

/// The entries matching `pattern` (a glob on the project name) and `kinds`.
fn select(cache: &Cache, pattern: Option<&str>, kinds: &[String]) -> anyhow::Result<Vec<Entry>> {
    let mut wanted = Vec::new();
    for kind in kinds.iter().flat_map(|k| k.split(',')) {
        match Kind::parse(kind.trim()) {
            Some(kind) => wanted.push(kind),
            None => bail!(
                "--kind {kind}: not a kind of cache entry (one of: {})",
                Kind::ALL.map(Kind::as_str).join(", ")
            ),
        }
    }
    Ok(inventory::list(cache)
        .into_iter()
        .filter(|e| wanted.is_empty() || wanted.contains(&e.kind))
        .filter(|e| pattern.is_none_or(|p| inventory::matches(p, &e.name)))
        .collect())
}

/// One line per entry: kind, name, version, size, last use, links, origin; columns aligned.
fn table(entries: &[Entry]) -> Vec<String> {
    if entries.is_empty() {
        return Vec::new();
    }
    let mut rows = vec![[
        "Kind".to_string(),
        "Name".to_string(),
        "Version".to_string(),
        "Size".to_string(),
        "Last used".to_string(),
        "Links".to_string(),
        "Origin".to_string(),
    ]];
    for entry in entries {
        rows.push([
            entry.kind.as_str().to_string(),
            entry.name.clone(),
            entry.version.clone().unwrap_or_default(),
            human_size(entry.size),
            ferry_install::store::format_utc(entry.last_used)
                .get(..10)
                .unwrap_or_default()
                .to_string(),
            entry.links.map(|l| l.to_string()).unwrap_or_default(),
            entry.origin.to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, cell)| format!("{cell:<width$}", width = widths[i]))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
