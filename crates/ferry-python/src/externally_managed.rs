//! PEP 668: environments marked `EXTERNALLY-MANAGED` by their distributor.

use std::path::Path;

/// An `EXTERNALLY-MANAGED` marker and the message to show the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternallyManaged {
    pub message: String,
}

const DEFAULT_MESSAGE: &str = "This Python environment is managed by its distributor. Use the \
distributor's tools to change it, or create a virtual environment with `ferry venv` and install \
into that.";

impl ExternallyManaged {
    /// Reads the marker at `path`; `None` if there is no such file.
    pub fn read(path: &Path) -> Option<Self> {
        let text = match fs_err::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
            // Unreadable but present: PEP 668 says the environment is still externally managed.
            Err(_) => String::new(),
        };
        Some(Self::parse(&text, &locale_candidates()))
    }

    /// Parses the configparser-style file, preferring `Error-<locale>` keys in `locales`
    /// order, then `Error`, then a default message.
    pub fn parse(text: &str, locales: &[String]) -> Self {
        let section = parse_section(text, "externally-managed");
        let lookup = |key: &str| {
            section
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        };
        let message = locales
            .iter()
            .find_map(|locale| lookup(&format!("Error-{locale}")))
            .or_else(|| lookup("Error"))
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_MESSAGE.to_string());
        Self { message }
    }
}

/// Keys and (multi-line) values of one section, in configparser's syntax: `key = value` or
/// `key: value`, continuation lines indented, `#`/`;` comments.
fn parse_section(text: &str, wanted: &str) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut in_section = false;
    for raw in text.lines() {
        let trimmed = raw.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            in_section = trimmed[1..trimmed.len() - 1].trim() == wanted;
            continue;
        }
        if !in_section || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        // Indented lines continue the previous value; so do empty ones (configparser keeps
        // blank lines inside a value and trims them at its end).
        let continuation = raw.starts_with([' ', '\t']) || trimmed.is_empty();
        if continuation {
            if let Some((_, value)) = entries.last_mut() {
                if !value.is_empty() || !trimmed.is_empty() {
                    value.push('\n');
                    value.push_str(trimmed);
                }
            }
            continue;
        }
        if let Some(split) = trimmed.find(['=', ':']) {
            let key = trimmed[..split].trim().to_string();
            let value = trimmed[split + 1..].trim().to_string();
            entries.push((key, value));
        }
    }
    for (_, value) in &mut entries {
        *value = value.trim().to_string();
    }
    entries
}

/// `Error-xx_YY` then `Error-xx` for the user's message locale.
fn locale_candidates() -> Vec<String> {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()));
    let Some(locale) = locale else {
        return Vec::new();
    };
    let base = locale
        .split(['.', '@'])
        .next()
        .unwrap_or_default()
        .to_string();
    let mut out = vec![base.clone()];
    if let Some((lang, _)) = base.split_once('_') {
        out.push(lang.to_string());
    }
    out.retain(|l| !l.is_empty() && l != "C" && l != "POSIX");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_multiline_error_and_locale_variants() {
        let text = "[externally-managed]\nError=To install Python packages system-wide, try apt install\n python3-xyz.\n\n more text\nError-fr = Utilisez apt.\n";
        let en = ExternallyManaged::parse(text, &[]);
        assert_eq!(
            en.message,
            "To install Python packages system-wide, try apt install\npython3-xyz.\n\nmore text"
        );
        let fr = ExternallyManaged::parse(text, &["fr_FR".into(), "fr".into()]);
        assert_eq!(fr.message, "Utilisez apt.");
    }

    #[test]
    fn missing_error_key_gives_default() {
        let m = ExternallyManaged::parse("[other]\nError = no\n", &[]);
        assert_eq!(m.message, DEFAULT_MESSAGE);
    }

    #[test]
    fn read_missing_file_is_none_and_present_file_is_some() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("EXTERNALLY-MANAGED");
        assert!(ExternallyManaged::read(&path).is_none());
        fs_err::write(
            &path,
            "[externally-managed]\nError = managed by the distro\n",
        )
        .unwrap();
        assert_eq!(
            ExternallyManaged::read(&path).unwrap().message,
            "managed by the distro"
        );
    }
}
