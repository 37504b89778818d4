//! Stamps the git commit into `--version` (Docker's `docker info` shows it).
//! `RINIT_GIT_HASH` overrides it; outside a git checkout it is `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=RINIT_GIT_HASH");
    println!("cargo:rerun-if-changed=.git/HEAD");
    if let Ok(head) = std::fs::read_to_string(".git/HEAD") {
        if let Some(reference) = head.strip_prefix("ref: ") {
            println!("cargo:rerun-if-changed=.git/{}", reference.trim());
        }
    }
    let hash = std::env::var("RINIT_GIT_HASH")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            let out = Command::new("git")
                .args(["rev-parse", "--short=7", "HEAD"])
                .output()
                .ok()?;
            let hash = String::from_utf8(out.stdout).ok()?.trim().to_string();
            (out.status.success() && !hash.is_empty()).then_some(hash)
        });
    println!(
        "cargo:rustc-env=RINIT_GIT_HASH={}",
        hash.as_deref().unwrap_or("unknown")
    );
}
