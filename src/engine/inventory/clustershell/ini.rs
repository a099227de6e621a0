//! The INI dialect of `groups.conf` (Python's `ConfigParser`): `[section]`
//! headers, `key: value` or `key = value`, indented continuation lines,
//! `#` and `;` comment lines. Keys are case-insensitive. Each section and
//! key keeps its line, so errors can name it.

use super::super::native::InventoryError;
use std::path::{Path, PathBuf};

pub struct Section {
    pub name: String,
    pub line: u64,
    /// `(key, value, line)`, keys lower-cased, a later key replacing an
    /// earlier one.
    entries: Vec<(String, String, u64)>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.as_str())
    }
}

pub struct Ini {
    pub path: PathBuf,
    sections: Vec<Section>,
}

impl Ini {
    /// Every section in file order but `Main` and `DEFAULT` (which
    /// `ConfigParser` does not list as a section).
    pub fn sections(&self) -> impl Iterator<Item = &Section> {
        self.sections
            .iter()
            .filter(|s| s.name != "Main" && s.name != "DEFAULT")
    }

    pub fn value(&self, section: &str, key: &str) -> Option<&str> {
        self.section(section)?.get(key)
    }

    /// The line of `key` in `section` (0 if absent).
    pub fn line(&self, section: &str, key: &str) -> u64 {
        self.section(section)
            .and_then(|s| s.entries.iter().find(|(k, _, _)| k == key))
            .map_or(0, |(_, _, l)| *l)
    }

    fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
}

/// Reads and parses `path`.
pub fn read(path: &Path) -> Result<Ini, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

fn parse(path: &Path, text: &str) -> Result<Ini, InventoryError> {
    let bad = |line: usize, reason: &str| InventoryError::Invalid {
        path: path.to_path_buf(),
        line: line as u64,
        reason: reason.to_string(),
    };
    let mut sections: Vec<Section> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            // A continuation of the previous value.
            let Some((_, value, _)) = sections.last_mut().and_then(|s| s.entries.last_mut()) else {
                return Err(bad(n, "indented line with no key before it"));
            };
            value.push('\n');
            value.push_str(trimmed);
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            sections.push(Section {
                name: name.to_string(),
                line: n as u64,
                entries: Vec::new(),
            });
            continue;
        }
        let Some(section) = sections.last_mut() else {
            return Err(bad(n, "a key before any [section] header"));
        };
        let split = trimmed.find([':', '=']);
        let Some(at) = split else {
            return Err(bad(n, "expected `key: value` or `key = value`"));
        };
        let key = trimmed[..at].trim().to_lowercase();
        let value = trimmed[at + 1..].trim().to_string();
        section.entries.retain(|(k, _, _)| *k != key);
        section.entries.push((key, value, n as u64));
    }
    Ok(Ini {
        path: path.to_path_buf(),
        sections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_continuations_and_errors() {
        let path = Path::new("groups.conf");
        let text = "# c\n[Main]\nDefault = roles\nautodir: a\n  b\n; c\n[DEFAULT]\nx: 1\n[local]\nmap: m\n";
        let ini = parse(path, text).expect("parses");
        assert_eq!(ini.value("Main", "default"), Some("roles"));
        assert_eq!(ini.value("Main", "autodir"), Some("a\nb"));
        assert_eq!(ini.line("Main", "default"), 3);
        let names: Vec<&str> = ini.sections().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["local"]);
        let err = parse(path, "\nmap: x\n").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("groups.conf:2: a key before any [section] header")
        );
        let err = parse(path, "[a]\nnovalue\n").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.starts_with("groups.conf:2:")));
    }
}
