//! How much an archive may unpack to: the defence against decompression bombs, shared by the
//! wheel unpacker and the sdist extractor.
//!
//! Two rules, checked as the bytes come out:
//! - at most [`max_unpacked`] bytes in all (16 GiB, or `FERRY_UNPACK_LIMIT` bytes): a limit
//!   no real wheel or sdist comes near;
//! - past [`RATIO_FLOOR`] (64 MiB) unpacked, at most [`MAX_RATIO`] (200) bytes out for each
//!   byte of archive read. Text and code compress about 3 to 10 times; what goes past 200 is
//!   long runs of one byte, which is what a bomb is made of.

/// The most bytes out per byte in, once [`RATIO_FLOOR`] bytes have come out.
pub const MAX_RATIO: u64 = 200;

/// Below this many bytes out, any ratio is fine (small files of zeros are common).
pub const RATIO_FLOOR: u64 = 64 << 20;

/// The default of [`max_unpacked`].
pub const DEFAULT_MAX_UNPACKED: u64 = 16 << 30;

/// The most bytes one archive may unpack to: `FERRY_UNPACK_LIMIT` (bytes) when set to a
/// number, else [`DEFAULT_MAX_UNPACKED`].
pub fn max_unpacked() -> u64 {
    std::env::var("FERRY_UNPACK_LIMIT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_UNPACKED)
}

/// Whether `unpacked` bytes out of `read` bytes of archive break a rule: `Err` says which.
pub fn check(unpacked: u64, read: u64, limit: u64) -> Result<(), String> {
    if unpacked > limit {
        return Err(format!(
            "it unpacks to more than {} MiB (the limit; FERRY_UNPACK_LIMIT raises it)",
            limit >> 20
        ));
    }
    if unpacked > RATIO_FLOOR && unpacked > read.max(1).saturating_mul(MAX_RATIO) {
        return Err(format!(
            "it unpacks to {} MiB from {} KiB, more than {MAX_RATIO} times its size: a \
             decompression bomb",
            unpacked >> 20,
            read >> 10
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_rules() {
        assert!(check(RATIO_FLOOR, 1, DEFAULT_MAX_UNPACKED).is_ok());
        assert!(check(RATIO_FLOOR + 1, 1, DEFAULT_MAX_UNPACKED).is_err());
        assert!(check(1 << 30, (1 << 30) / 10, DEFAULT_MAX_UNPACKED).is_ok());
        assert!(check(101, 100, 100).unwrap_err().contains("the limit"));
    }
}
