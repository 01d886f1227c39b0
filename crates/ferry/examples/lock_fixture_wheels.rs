//! Writes the wheels the lock fixtures of pip and uv were made for into `DIR/files/`, to
//! regenerate `tests/fixtures/locks` (see its README). Not part of ferry.

#![allow(clippy::print_stdout)]

fn main() {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: lock_fixture_wheels DIR"),
    )
    .join("files");
    std::fs::create_dir_all(&dir).expect("create DIR/files");
    for wheel in ferry_test::lock_fixture_wheels() {
        println!("{}", wheel.write_to(&dir).display());
    }
}
