//! Build facts for `drover --version`: the commit the binary was built from (from
//! git when the source is a checkout, else `DROVER_BUILD_COMMIT` or "unknown"),
//! the target triple and the profile.

use std::process::Command;

fn main() {
    let commit = std::env::var("DROVER_BUILD_COMMIT")
        .ok()
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=DROVER_BUILD_COMMIT={commit}");
    println!(
        "cargo:rustc-env=DROVER_BUILD_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
    println!(
        "cargo:rustc-env=DROVER_BUILD_PROFILE={}",
        std::env::var("PROFILE").unwrap_or_default()
    );
    println!("cargo:rerun-if-env-changed=DROVER_BUILD_COMMIT");
    // HEAD's log grows on every commit and checkout: the commit is read again then.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/logs/HEAD");
    }
}

/// The short commit of HEAD.
fn git_commit() -> Option<String> {
    git(&["rev-parse", "--short=12", "HEAD"])
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
