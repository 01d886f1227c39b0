//! The one reader of core metadata files (`METADATA`, `PKG-INFO`): their RFC 822-style header
//! fields as Python's `email` parser gives them, which is what pip reads. Everything that looks
//! at metadata (the resolver, the installed-distribution scan, `show`, `check`, the installation
//! report) starts from here.

/// The header fields in order, as Python's `email` parser (compat32) gives them: the value's
/// first line without leading blanks, continuation lines appended verbatim (newline and
/// indentation kept), trailing newlines removed. Stops at the first blank line (where the body,
/// the description, starts) or at the first line that is not a header.
pub fn raw_fields(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            match fields.last_mut() {
                Some((_, value)) => value.push_str(line),
                None => break,
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            break;
        };
        if key.is_empty() || key.chars().any(|c| !c.is_ascii_graphic()) {
            break;
        }
        fields.push((
            key.to_string(),
            value.trim_start_matches([' ', '\t']).to_string(),
        ));
    }
    for (_, value) in &mut fields {
        let end = value.trim_end_matches(['\r', '\n']).len();
        value.truncate(end);
    }
    fields
}

/// The message body (the long description) as Python's `email` parser gives it: everything
/// after the blank line that ends the headers, or from the first line that is not a header.
/// `None` when there is none.
pub fn body(text: &str) -> Option<&str> {
    let mut offset = 0;
    let mut seen_header = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare.is_empty() {
            offset += line.len();
            break;
        }
        let header = line.starts_with([' ', '\t']) && seen_header
            || line.split_once(':').is_some_and(|(key, _)| {
                !key.is_empty() && key.chars().all(|c| c.is_ascii_graphic())
            });
        if !header {
            break;
        }
        seen_header = true;
        offset += line.len();
    }
    let rest = &text[offset.min(text.len())..];
    (!rest.is_empty()).then_some(rest)
}

/// The header fields with each value folded: every line trimmed, lines joined with `\n`.
pub fn fields(text: &str) -> Vec<(String, String)> {
    raw_fields(text)
        .into_iter()
        .map(|(key, value)| (key.trim().to_string(), fold(&value)))
        .collect()
}

/// A raw field value with every line trimmed, lines joined with `\n`.
pub fn fold(value: &str) -> String {
    value.lines().map(str::trim).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_continuations_and_body() {
        let text = "Metadata-Version: 2.1\nName: demo\nSummary: one\n  two\nRequires-Dist: a\nRequires-Dist: b ; extra == 'x'\n\nThe description.\nKey: not a header\n";
        let f = fields(text);
        assert_eq!(f[2], ("Summary".into(), "one\ntwo".into()));
        assert_eq!(raw_fields(text)[2].1, "one\n  two");
        assert_eq!(
            f.iter().filter(|(k, _)| k == "Requires-Dist").count(),
            2,
            "{f:?}"
        );
        assert!(!f.iter().any(|(k, _)| k == "Key"));
        // A line that is not a header ends the header, as in Python's parser.
        assert_eq!(fields("Name: x\nnot a header\nVersion: 1\n").len(), 1);
    }
}
