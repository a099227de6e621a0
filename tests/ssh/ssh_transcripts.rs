//! Session transcripts against a real OpenSSH server: `drover ssh --record`
//! keeps what the session printed, linked from both journal entries of the
//! session; `drover journal replay` plays it back byte for byte (by transcript
//! id or journal entry id), faster with `--speed`, without pauses with `--raw`;
//! `[sessions] record` turns recording on, `--no-record` off, and a session
//! printing more than `max_transcript_bytes` gets a transcript cut there.
//! Needs root; prints SKIPPED lines otherwise.

use crate::cli_support;
use crate::ssh_support;
use crate::sshd;

use cli_support::finish;
use serde_json::Value;
use ssh_support::Drover;
use sshd::Fleet;
use std::time::{Duration, Instant};

fn entry<'a>(entries: &'a [Value], action: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action:?} entry: {entries:#?}"))
}

/// The session prints to stderr, then to stdout, then again after a pause of
/// `GAP` seconds.
const SCRIPT: &str = "echo err >&2; sleep 0.5; printf 'one\\n'; sleep 3; printf 'two\\n'";
const GAP: Duration = Duration::from_secs(3);

#[test]
fn a_recorded_session_is_linked_from_its_journal_entries_and_replayed_as_printed() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let out = finish(d.cmd(&cfg, &["ssh", "--record", "node001", "--", SCRIPT]));
    out.expect(0);
    assert_eq!(out.out(), "one\ntwo\n", "{out:?}");
    assert_eq!(out.err(), "err\n", "{out:?}");

    let entries = d.journal(&cfg, "node001");
    let ended = entry(&entries, &format!("session: {SCRIPT} ended"));
    let started = entry(&entries, &format!("session: {SCRIPT}"));
    let id = ended["details"]["transcript"]
        .as_str()
        .unwrap_or_else(|| panic!("no transcript link: {ended}"))
        .to_string();
    assert_eq!(started["details"]["transcript"], id.as_str(), "{started}");
    assert_eq!(ended["details"]["transcript_bytes"], 12, "{ended}");
    assert!(ended["details"].get("transcript_cut").is_none(), "{ended}");
    let listing = finish(d.cmd(&cfg, &["journal", "node001"]));
    assert!(
        listing.out().contains(&format!("[transcript {id}]")),
        "{listing:?}"
    );

    // Timed replay at 20x: everything, in the order printed, in less time
    // than the pause the session made.
    let begun = Instant::now();
    let replay = finish(d.cmd(&cfg, &["journal", "replay", &id, "--speed", "20"]));
    let took = begun.elapsed();
    replay.expect(0);
    assert_eq!(replay.out(), "err\none\ntwo\n", "{replay:?}");
    assert!(took < GAP, "a 20x replay took {took:?}");
    assert!(
        replay.err().contains(&format!("transcript {id}")) && replay.err().contains("node001"),
        "{replay:?}"
    );

    // By the journal entry's id, with pauses capped; and raw, at once and bare.
    let entry_id = ended["id"].as_i64().expect("entry id").to_string();
    let begun = Instant::now();
    let capped = finish(d.cmd(
        &cfg,
        &["journal", "replay", &entry_id, "--max-wait", "100ms"],
    ));
    assert!(
        begun.elapsed() < GAP,
        "--max-wait 100ms took {:?}",
        begun.elapsed()
    );
    capped.expect(0);
    assert_eq!(capped.out(), "err\none\ntwo\n", "{capped:?}");
    let raw = finish(d.cmd(&cfg, &["journal", "replay", "--raw", &id]));
    raw.expect(0);
    assert_eq!(raw.out(), "err\none\ntwo\n", "{raw:?}");
    assert_eq!(raw.err(), "", "{raw:?}");

    // Sessions without --record have no transcript; unknown ids are refused.
    finish(d.cmd(&cfg, &["ssh", "node001", "--", "echo plain"])).expect(0);
    let entries = d.journal(&cfg, "node001");
    let plain = entry(&entries, "session: echo plain ended");
    assert!(plain["details"].get("transcript").is_none(), "{plain}");
    let plain_id = plain["id"].as_i64().unwrap().to_string();
    finish(d.cmd(&cfg, &["journal", "replay", &plain_id]))
        .expect(4)
        .err_has("no transcript");
    finish(d.cmd(&cfg, &["journal", "replay", "0123456789abcdef"]))
        .expect(4)
        .err_has("0123456789abcdef");
    finish(d.cmd(&cfg, &["journal", "replay", &id, "--speed", "0"])).expect(2);

    // Replaying needs journal.read on the session's node.
    let me = String::from_utf8(
        std::process::Command::new("id")
            .arg("-un")
            .output()
            .expect("id -un")
            .stdout,
    )
    .unwrap();
    let rbac = d.path("rbac.toml");
    std::fs::write(
        &rbac,
        format!(
            "[rbac.roles.runner]\ncapabilities = [\"command.run\"]\n\n[rbac.users]\n{} = [\"runner\"]\n",
            me.trim()
        ),
    )
    .unwrap();
    let rbac = rbac.display().to_string();
    let refused = finish(d.cmd(&cfg, &["--config", &rbac, "journal", "replay", &id]));
    refused.expect(3).err_has("journal.read").err_has("node001");
    assert_eq!(refused.out(), "", "{refused:?}");
}

#[test]
fn the_config_turns_recording_on_and_a_long_session_is_cut_at_its_limit() {
    let Some(fleet) = Fleet::or_skip(1) else {
        return;
    };
    let d = Drover::new();
    let cfg = fleet.ssh_config();
    let config = d.path("drover.toml");
    std::fs::write(
        &config,
        "[sessions]\nrecord = true\nmax_transcript_bytes = 1000\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let long = "head -c 5000 /dev/zero | tr '\\0' a";
    let out = finish(d.cmd(&cfg, &["--config", &config, "ssh", "node001", "--", long]));
    out.expect(0);
    assert_eq!(out.stdout.len(), 5000, "the session itself is never cut");

    let entries = d.journal(&cfg, "node001");
    let ended = entry(&entries, &format!("session: {long} ended"));
    assert_eq!(ended["details"]["transcript_bytes"], 1000, "{ended}");
    assert_eq!(
        ended["details"]["transcript_cut"], "transcript cut at 1000 bytes",
        "{ended}"
    );
    let id = ended["details"]["transcript"].as_str().unwrap().to_string();
    let replay = finish(d.cmd(&cfg, &["journal", "replay", &id]));
    replay.expect(0);
    assert_eq!(replay.stdout, vec![b'a'; 1000]);
    replay.err_has("transcript cut at 1000 bytes");

    // --no-record overrides the config for one session.
    let out = finish(d.cmd(
        &cfg,
        &[
            "--config",
            &config,
            "ssh",
            "--no-record",
            "node001",
            "--",
            "echo off",
        ],
    ));
    out.expect(0);
    let entries = d.journal(&cfg, "node001");
    let ended = entry(&entries, "session: echo off ended");
    assert!(ended["details"].get("transcript").is_none(), "{ended}");
}
