//! Command allow and deny patterns, the seeds' command whitelist: a pattern
//! matches a command exactly or as a prefix at a word boundary (`systemctl status`
//! matches `systemctl status nginx`, not `systemctl statusx`); a pattern ending in
//! `*` is a plain prefix (`cat /var/log/*`).
//!
//! Commands go to a shell, so a command is checked piece by piece: it is split at
//! `;`, `&`, `|` and newlines, and every piece must be allowed (and none denied).
//! Command or process substitution (`` ` ``, `$(`, `<(`, `>(`) could run anything,
//! so a role with an allow list refuses it unless the whole command is an exact
//! allowed pattern. Deny patterns guard against mistakes; they are no sandbox
//! (`/bin/rm -fr` is not `rm -rf`): limit a role with `allow_commands`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandPattern {
    text: String,
    prefix: bool,
}

impl CommandPattern {
    pub fn new(pattern: &str) -> Result<CommandPattern, String> {
        let normal = normalize(pattern);
        let (text, prefix) = match normal.strip_suffix('*') {
            Some(p) => (p.to_string(), true),
            None => (normal, false),
        };
        if text.is_empty() {
            return Err(format!("{pattern:?} matches every command"));
        }
        Ok(CommandPattern { text, prefix })
    }

    /// `piece` is already normalised.
    fn matches(&self, piece: &str) -> bool {
        if self.prefix {
            return piece.starts_with(&self.text);
        }
        piece == self.text
            || piece
                .strip_prefix(&self.text)
                .is_some_and(|rest| rest.starts_with(' '))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Collapses runs of whitespace, so `rm  -rf` is `rm -rf`.
fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The pieces a shell would run one after another.
fn pieces(command: &str) -> Vec<String> {
    command
        .split([';', '&', '|', '\n'])
        .map(normalize)
        .filter(|p| !p.is_empty())
        .collect()
}

const SUBSTITUTIONS: &[&str] = &["`", "$(", "<(", ">("];

/// Why `command` is not allowed by these patterns, or `None` when it is.
pub fn command_problem(
    command: &str,
    allow: &[CommandPattern],
    deny: &[CommandPattern],
) -> Option<String> {
    let pieces = pieces(command);
    for piece in &pieces {
        if let Some(d) = deny.iter().find(|d| d.matches(piece)) {
            return Some(format!("the command matches deny pattern {:?}", d.text));
        }
    }
    if allow.is_empty() {
        return None;
    }
    let whole = normalize(command);
    if allow.iter().any(|a| !a.prefix && a.text == whole) {
        return None;
    }
    if SUBSTITUTIONS.iter().any(|s| command.contains(s)) {
        return Some("command substitution is not allowed with allow_commands".into());
    }
    match pieces.iter().find(|p| !allow.iter().any(|a| a.matches(p))) {
        Some(p) => Some(format!("{p:?} matches no allow_commands pattern")),
        None if pieces.is_empty() => Some("the command is empty".into()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(list: &[&str]) -> Vec<CommandPattern> {
        list.iter()
            .map(|p| CommandPattern::new(p).unwrap())
            .collect()
    }

    #[test]
    fn exact_and_word_prefix() {
        let allow = pats(&["systemctl status", "uptime", "cat /var/log/*"]);
        assert_eq!(command_problem("uptime", &allow, &[]), None);
        assert_eq!(
            command_problem("systemctl  status nginx", &allow, &[]),
            None
        );
        assert!(command_problem("systemctl statusx", &allow, &[]).is_some());
        assert_eq!(command_problem("cat /var/log/syslog", &allow, &[]), None);
        assert!(command_problem("uptime; rm -rf /", &allow, &[]).is_some());
        assert!(command_problem("uptime $(rm -rf /)", &allow, &[]).is_some());
        assert_eq!(command_problem("uptime | uptime", &allow, &[]), None);
    }

    #[test]
    fn deny_checks_every_piece() {
        let deny = pats(&["rm -rf", "reboot"]);
        assert!(command_problem("echo hi && rm  -rf /tmp/x", &[], &deny).is_some());
        assert!(command_problem("reboot", &[], &deny).is_some());
        assert_eq!(command_problem("rebooted-check", &[], &deny), None);
        assert!(CommandPattern::new(" * ").is_err());
    }
}
