//! `ferry hash`: `--hash` options for files, as `pip hash` prints them.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use sha2::Digest;

use crate::cli::HashArgs;
use crate::printer::Printer;

pub fn run(args: &HashArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    for path in &args.files {
        let mut file = fs_err::File::open(path)?;
        let mut buf = vec![0u8; 1 << 16];
        let mut sha256 = sha2::Sha256::new();
        let mut sha384 = sha2::Sha384::new();
        let mut sha512 = sha2::Sha512::new();
        loop {
            let n = file
                .read(&mut buf)
                .with_context(|| format!("could not read {}", path.display()))?;
            if n == 0 {
                break;
            }
            match args.algorithm.as_str() {
                "sha384" => sha384.update(&buf[..n]),
                "sha512" => sha512.update(&buf[..n]),
                _ => sha256.update(&buf[..n]),
            }
        }
        let digest: Vec<u8> = match args.algorithm.as_str() {
            "sha384" => sha384.finalize().to_vec(),
            "sha512" => sha512.finalize().to_vec(),
            _ => sha256.finalize().to_vec(),
        };
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        printer.result(format!(
            "{}:\n--hash={}:{hex}",
            path.display(),
            args.algorithm
        ));
    }
    Ok(ExitCode::SUCCESS)
}
