//! One parse of the known_hosts files per change to them, shared by every
//! connection of a transport. Parsing per connection made a run over 1,000
//! nodes (whose known_hosts holds 1,000 keys) decode a million keys, and each
//! connection kept its own copy for its lifetime: 475 MB of RSS for `true`.
//!
//! A file counts as changed when its size, modification time or inode differ
//! from when it was read: drover's own `accept-new` appends (the size grows),
//! `ssh-keygen -R` replaces the file (a new inode), an editor does either.

use super::known_hosts::KnownHosts;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

#[derive(Debug, Default)]
pub struct KnownHostsCache {
    by_files: Mutex<HashMap<Vec<PathBuf>, Parsed>>,
}

#[derive(Debug)]
struct Parsed {
    stamps: Vec<Option<Stamp>>,
    known: Arc<KnownHosts>,
}

/// What says a file is the one read before; `None` for a file that is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn stamp(path: &PathBuf) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
        inode: meta.ino(),
    })
}

impl KnownHostsCache {
    /// The files' contents, parsed; `fresh` is true when they were (re)read now,
    /// so warnings about their lines are reported once per change, not once per
    /// connection. Blocking (file I/O): call it off the runtime's threads.
    pub fn load(&self, files: &[PathBuf]) -> (Arc<KnownHosts>, bool) {
        // Held while parsing: connections starting together wait for one parse
        // instead of each making its own.
        let mut by_files = self.by_files.lock().unwrap_or_else(|p| p.into_inner());
        let stamps: Vec<Option<Stamp>> = files.iter().map(stamp).collect();
        if let Some(parsed) = by_files.get(files)
            && parsed.stamps == stamps
        {
            return (parsed.known.clone(), false);
        }
        let known = Arc::new(KnownHosts::load(files));
        by_files.insert(
            files.to_vec(),
            Parsed {
                stamps,
                known: known.clone(),
            },
        );
        (known, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    fn hosts(known: &KnownHosts) -> usize {
        ["a", "b", "c"]
            .iter()
            .filter(|h| !known.known_algorithms(h, 22).is_empty())
            .count()
    }

    #[test]
    fn a_file_is_parsed_once_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        std::fs::write(&file, format!("a {KEY}\n")).unwrap();
        let files = vec![file.clone(), dir.path().join("missing")];
        let cache = KnownHostsCache::default();

        let (first, fresh) = cache.load(&files);
        assert!(fresh);
        assert_eq!(hosts(&first), 1);
        let (again, fresh) = cache.load(&files);
        assert!(!fresh);
        assert!(Arc::ptr_eq(&first, &again));

        // Appended to (as accept-new does): read again.
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str(&format!("b {KEY}\n"));
        std::fs::write(&file, &text).unwrap();
        let (grown, fresh) = cache.load(&files);
        assert!(fresh);
        assert_eq!(hosts(&grown), 2);

        // Replaced by a file of the same size (as ssh-keygen -R does): read again.
        let replacement = dir.path().join("new");
        std::fs::write(&replacement, text.replace("b ssh", "c ssh")).unwrap();
        std::fs::rename(&replacement, &file).unwrap();
        let (replaced, fresh) = cache.load(&files);
        assert!(fresh);
        assert!(replaced.known_algorithms("c", 22).len() == 1);

        // A file that appears where there was none: read again.
        std::fs::write(&files[1], "").unwrap();
        assert!(cache.load(&files).1);
    }
}
