//! Migrations on `main` are append-only: `migrations/CHECKSUMS` records every file's SHA-384, and
//! this test fails when a recorded file changes, disappears, or a new file is not recorded.

use switchyard_db::{MIGRATOR, migrate};

#[test]
fn committed_checksums_match_the_embedded_migrations() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/CHECKSUMS");
    let text = std::fs::read_to_string(&path).expect("migrations/CHECKSUMS exists");
    let recorded: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let file = parts.next().unwrap().to_owned();
            let sum = parts
                .next()
                .expect("a checksum after the file name")
                .to_owned();
            (file, sum)
        })
        .collect();
    let embedded: Vec<(String, String)> = MIGRATOR
        .iter()
        .map(|m| (migrate::file_name(m), hex_encode(&m.checksum)))
        .collect();
    for (file, sum) in &recorded {
        match embedded.iter().find(|(f, _)| f == file) {
            None => panic!(
                "{file} is recorded in CHECKSUMS but no longer exists: migrations are never deleted"
            ),
            Some((_, actual)) => assert_eq!(
                actual, sum,
                "{file} changed after it was recorded: migrations are append-only, add a new one"
            ),
        }
    }
    for (file, sum) in &embedded {
        assert!(
            recorded.iter().any(|(f, _)| f == file),
            "{file} is not recorded; append this line to migrations/CHECKSUMS:\n{file} {sum}"
        );
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
