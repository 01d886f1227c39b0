//! `ferry config`: pip's `config` command over pip's configuration files, which ferry honours:
//! `list`, `get`, `set`, `unset`, `edit` and `debug`, with `--global`, `--user` or `--site`.

use std::process::ExitCode;

use anyhow::{bail, Context};
use ferry_input::{ConfigLevel, PipConfig};

use crate::cli::{ConfigAction, ConfigArgs};
use crate::printer::Printer;

pub fn run(args: &ConfigArgs, config: &PipConfig, printer: &Printer) -> anyhow::Result<ExitCode> {
    match &args.action {
        ConfigAction::List => {
            // As pip lists them: `PIP_*` variables as `:env:.name`, then the files' values.
            let mut lines: Vec<(String, String)> = config
                .env_values()
                .into_iter()
                .filter(|(_, option, _)| !matches!(option.as_str(), "version" | "help"))
                .map(|(_, option, value)| (format!(":env:.{option}"), value))
                .collect();
            // pip lists PIP_CONFIG_FILE too, as the option `config-file`.
            if let Some(file) = std::env::var("PIP_CONFIG_FILE")
                .ok()
                .filter(|f| !f.is_empty() && !config.is_isolated())
            {
                lines.push((":env:.config-file".into(), file));
            }
            lines.extend(config.file_values().into_iter().map(|(k, v, _)| (k, v)));
            lines.sort();
            for (key, value) in lines {
                printer.result(format!("{key}={}", python_repr(&value)));
            }
        }
        ConfigAction::Get { key } => {
            let (section, name) = split_key(key)?;
            let wanted = format!("{section}.{}", normalize(name));
            // As pip's `config get`: only the files of one level are read (the level given,
            // else the environment's file if it exists, else the user's, which an existing
            // PIP_CONFIG_FILE stands in for), not the merged configuration.
            let mut found = None;
            for file in files_to_read(args, config) {
                for (k, value) in PipConfig::file_entries(&file).unwrap_or_default() {
                    if k == wanted {
                        found = Some(value);
                    }
                }
            }
            match found {
                Some(value) => printer.result(value),
                None => bail!("no such key - {key}"),
            }
        }
        ConfigAction::Set { key, value } => {
            let (section, name) = split_key(key)?;
            let file = file_to_change(args)?;
            ferry_input::edit_file(&file, section, name, Some(value))?;
            printer.status(format!("Writing to {}", file.display()));
        }
        ConfigAction::Unset { key } => {
            let (section, name) = split_key(key)?;
            let file = file_to_change(args)?;
            if !ferry_input::edit_file(&file, section, name, None)? {
                bail!("no such key - {key} (in {})", file.display());
            }
            printer.status(format!("Writing to {}", file.display()));
        }
        ConfigAction::Edit => {
            let file = file_to_change(args)?;
            let editor = std::env::var("VISUAL")
                .or_else(|_| std::env::var("EDITOR"))
                .context(
                    "set VISUAL or EDITOR to the editor to open the configuration file with",
                )?;
            if let Some(parent) = file.parent() {
                fs_err::create_dir_all(parent)?;
            }
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("{editor} \"$1\""))
                .arg("sh")
                .arg(&file)
                .status()
                .with_context(|| format!("could not run the editor `{editor}`"))?;
            if !status.success() {
                bail!("the editor `{editor}` exited with {status}");
            }
        }
        ConfigAction::Debug => {
            // As pip prints it: the variants in alphabetical order (env_var, env, global, site,
            // user), every `PIP_*` variable of the process (even with --isolated, as pip), and no
            // user files when --isolated or an existing PIP_CONFIG_FILE keeps them from loading.
            let loaded = config.loaded_files();
            let print_files = |files: &[std::path::PathBuf]| {
                for file in files {
                    let exists = file.exists();
                    printer.result(format!(
                        "  {}, exists: {}",
                        file.display(),
                        if exists { "True" } else { "False" }
                    ));
                    // The file's own values, even those a later file overrides.
                    if loaded.contains(file) {
                        for (key, value) in PipConfig::file_entries(file).unwrap_or_default() {
                            printer.result(format!("    {key}: {value}"));
                        }
                    }
                }
            };
            printer.result("env_var:");
            let mut vars: Vec<(String, String)> = std::env::vars()
                .filter(|(k, _)| k.starts_with("PIP_"))
                .collect();
            vars.sort();
            for (name, value) in vars {
                printer.result(format!(
                    "  {name}={}",
                    python_repr(&ferry_index::redact_str(&value))
                ));
            }
            printer.result("env:");
            let config_file = std::env::var("PIP_CONFIG_FILE")
                .ok()
                .filter(|f| !f.is_empty());
            if let Some(file) = &config_file {
                print_files(&[std::path::PathBuf::from(file)]);
            }
            printer.result("global:");
            print_files(&ferry_input::level_files(ConfigLevel::Global));
            printer.result("site:");
            print_files(&ferry_input::level_files(ConfigLevel::Site));
            let user_hidden = config.is_isolated()
                || config_file.is_some_and(|f| std::path::Path::new(&f).exists());
            if !user_hidden {
                printer.result("user:");
                print_files(&ferry_input::level_files(ConfigLevel::User));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `section.key`, as pip requires it.
fn split_key(key: &str) -> anyhow::Result<(&str, &str)> {
    match key.split_once('.') {
        Some((section, name)) if !section.is_empty() && !name.is_empty() => Ok((section, name)),
        _ => bail!("`{key}` is not a section.key name; perhaps you meant global.{key}"),
    }
}

fn normalize(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('_', "-")
}

/// The files `config get` reads, in order: those of [`chosen_level`]; for the user level, an
/// existing PIP_CONFIG_FILE's file instead of the user's files (pip reads it in their place).
fn files_to_read(args: &ConfigArgs, config: &PipConfig) -> Vec<std::path::PathBuf> {
    let env_file = std::env::var("PIP_CONFIG_FILE")
        .ok()
        .filter(|f| !f.is_empty());
    if matches!(env_file.as_deref(), Some("/dev/null")) {
        return Vec::new();
    }
    match chosen_level(args) {
        ConfigLevel::User => match env_file.filter(|f| std::path::Path::new(f).exists()) {
            Some(file) => vec![file.into()],
            None if config.is_isolated() => Vec::new(),
            None => ferry_input::level_files(ConfigLevel::User),
        },
        level => ferry_input::level_files(level),
    }
}

/// The file `set`, `unset` and `edit` change: the last of the chosen level's files.
fn file_to_change(args: &ConfigArgs) -> anyhow::Result<std::path::PathBuf> {
    ferry_input::level_files(chosen_level(args)).pop().context(
        "there is no such configuration file here (--site needs VIRTUAL_ENV; --user needs HOME)",
    )
}

/// The level a `config` action works on: the one given; without one, the environment's when
/// its file exists, else the user's (pip's rule).
fn chosen_level(args: &ConfigArgs) -> ConfigLevel {
    if args.global {
        ConfigLevel::Global
    } else if args.site {
        ConfigLevel::Site
    } else if args.user {
        ConfigLevel::User
    } else if ferry_input::level_files(ConfigLevel::Site)
        .iter()
        .any(|f| f.exists())
    {
        ConfigLevel::Site
    } else {
        ConfigLevel::User
    }
}

/// A string as Python's `repr` writes it (pip's `config list` prints `key='value'`).
fn python_repr(value: &str) -> String {
    let quote = if value.contains('\'') && !value.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
