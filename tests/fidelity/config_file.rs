//! The configuration file: the README's documented example is a valid config, the
//! defaults are what the README says, and a missing `[rbac]` section means no policy.

use drover::config::Config;
use std::path::Path;

/// The first ```toml block after the "## Configuration" heading.
fn readme_example() -> String {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("\n## Configuration")
        .nth(1)
        .expect("README has a Configuration section");
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = section[start..].find("```").expect("block end") + start;
    section[start..end].to_string()
}

#[test]
fn readme_example_is_valid_and_documents_the_defaults() {
    let text = readme_example();
    let config = Config::parse(&text, Path::new("README.md")).expect("README example parses");
    let defaults = Config::default();
    // Everything but the illustrative RBAC and per-transport parts is the default.
    assert_eq!(config.execution, defaults.execution);
    assert_eq!(config.output, defaults.output);
    assert_eq!(config.logging, defaults.logging);
    assert_eq!(config.secrets, defaults.secrets);
    assert_eq!(config.sessions, defaults.sessions);
    assert_eq!(config.ui, defaults.ui);
    assert_eq!(config.journal.retention, defaults.journal.retention);
    assert_eq!(config.journal.types, defaults.journal.types);
    assert_eq!(config.journal.level, defaults.journal.level);
    let rbac = config.rbac.expect("the example has [rbac]");
    assert!(rbac.roles.contains_key("web-oncall"));
    rbac.policy().expect("example policy builds");
}

#[test]
fn empty_file_is_the_defaults_without_rbac() {
    let config = Config::parse("", Path::new("c.toml")).expect("empty config");
    assert_eq!(config, Config::default());
    assert!(config.rbac.is_none());
    assert_eq!(config.ui.confirm_above_nodes, 50);
    assert!(config.ui.needs_confirmation("sudo reboot", 1));
    assert!(!config.ui.needs_confirmation("uptime", 50));
    assert!(config.ui.needs_confirmation("uptime", 51));
}

#[test]
fn keymap_is_resolved_next_to_the_config_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("keys.toml"), "").expect("write keymap");
    let path = dir.path().join("config.toml");
    let config = Config::parse("[ui]\nkeymap = \"keys.toml\"\n", &path).expect("parses");
    assert_eq!(config.ui.keymap, Some(dir.path().join("keys.toml")));
    let err = Config::parse("[ui]\nkeymap = \"missing.toml\"\n", &path).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("config.toml:2:") && msg.contains("keymap"),
        "{msg}"
    );
}

#[test]
fn same_key_in_two_sections_points_at_the_right_line() {
    let text = "[logging]\nretention = \"14d\"\n\n[journal]\nretention = \"2h\"\n";
    let msg = Config::parse(text, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("c.toml:5: [journal] retention"), "{msg}");
}

#[test]
fn queue_settings_are_checked_and_named() {
    let text = "[execution]\nfanout = 8\nqueue_depth = 0\n";
    let e = Config::parse(text, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("c.toml:3") && e.contains("queue_depth"), "{e}");
    let text = "[execution]\nqueue_aging = \"soon\"\n";
    let e = Config::parse(text, Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("c.toml:2") && e.contains("queue_aging"), "{e}");
    let text = "[execution]\nqueue_depth = 3\nqueue_aging = \"2s\"\n";
    let c = Config::parse(text, Path::new("c.toml")).expect("valid");
    assert_eq!(
        (c.execution.queue_depth, c.execution.queue_aging.as_str()),
        (3, "2s")
    );
}
