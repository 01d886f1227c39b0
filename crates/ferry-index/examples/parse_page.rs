//! Times the simple-page parsers on a real project page (used by `bench/run.sh`).
//!
//! `cargo run --release -p ferry-index --example parse_page -- [PROJECT] [ITERATIONS]`
//!
//! Fetches the project's page from the index ferry would use (PIP_INDEX_URL, else the default
//! of the first `python3` on PATH's pip), as HTML and as JSON. When the server (or a proxy)
//! answers HTML to the JSON request, an equivalent PEP 691 document is built from the parsed
//! files so the JSON parser can be timed on the same data. Prints one JSON line.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use ferry_cache::Cache;
use ferry_index::{parse_html, parse_json, CoreMetadata, HttpClient, HttpSettings, IndexUrl};
use ferry_python::{find_interpreter, PythonRequest};

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let project = args.next().unwrap_or_else(|| "botocore".into());
    let iterations: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(30);

    let cache = Cache::temporary()?;
    let index = match std::env::var("PIP_INDEX_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => find_interpreter(&PythonRequest::Any, &cache)?
            .info()
            .pip_default_index
            .clone()
            .ok_or("no index: set PIP_INDEX_URL")?,
    };
    let url = IndexUrl::parse(&index)?.project_url(&project);
    let mut settings = HttpSettings::default();
    if let Ok(cert) = std::env::var("PIP_CERT") {
        settings.certs.push(cert.into());
    }
    let http = HttpClient::new(settings, None)?;

    let html = http.get(&url, "text/html").await?;
    let json = http
        .get(&url, "application/vnd.pypi.simple.v1+json")
        .await?;
    let parsed = parse_html(&html.body, &html.url);
    let (json_body, json_synthesized) = if json
        .content_type
        .as_deref()
        .is_some_and(|c| c.ends_with("+json"))
    {
        (json.body, false)
    } else {
        let files: Vec<_> = parsed
            .files
            .iter()
            .map(|f| {
                let mut file = serde_json::json!({
                    "filename": f.filename,
                    "url": f.url.as_str(),
                    "hashes": {"sha256": f.hashes.sha256},
                    "requires-python": f.requires_python,
                    "size": 1_234_567,
                    "upload-time": "2024-01-01T00:00:00.000000Z",
                    "yanked": f.yanked.clone().map_or(serde_json::json!(false), serde_json::Value::from),
                });
                let meta = match &f.core_metadata {
                    CoreMetadata::Available(h) => serde_json::json!({"sha256": h.sha256}),
                    CoreMetadata::Unavailable => serde_json::json!(false),
                };
                file["core-metadata"] = meta.clone();
                file["data-dist-info-metadata"] = meta;
                file
            })
            .collect();
        let doc =
            serde_json::json!({"meta": {"api-version": "1.1"}, "name": project, "files": files});
        (serde_json::to_vec(&doc)?, true)
    };

    let mut html_times = Vec::new();
    let mut json_times = Vec::new();
    let mut count = 0;
    for _ in 0..iterations {
        let start = Instant::now();
        count = parse_html(&html.body, &html.url).files.len();
        html_times.push(start.elapsed().as_secs_f64() * 1000.0);
        let start = Instant::now();
        let page = parse_json(&json_body, &html.url)?;
        json_times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(page.files.len(), count);
    }
    println!(
        "{}",
        serde_json::json!({
            "project": project,
            "files": count,
            "html_bytes": html.body.len(),
            "json_bytes": json_body.len(),
            "json_synthesized": json_synthesized,
            "html_median_ms": median(html_times),
            "json_median_ms": median(json_times),
        })
    );
    Ok(())
}
