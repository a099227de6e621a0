//! Scheduling priority: how a request asks to be served before or after others
//! waiting for a slot. Shared by requests, plans and the slot queue.

use std::fmt;
use std::str::FromStr;

/// Scheduling priority, 0 (lowest) to 9; `normal` is 5.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "PriorityText", into = "u8")]
pub struct Priority(u8);

impl Priority {
    pub const LOW: Priority = Priority(2);
    pub const NORMAL: Priority = Priority(5);
    pub const HIGH: Priority = Priority(8);
    pub const MAX: u8 = 9;

    pub fn new(level: u8) -> Result<Priority, String> {
        if level > Self::MAX {
            return Err(format!("{level} is above {}", Self::MAX));
        }
        Ok(Priority(level))
    }

    pub fn level(self) -> u8 {
        self.0
    }
}

impl Default for Priority {
    fn default() -> Self {
        Priority::NORMAL
    }
}

impl From<Priority> for u8 {
    fn from(p: Priority) -> u8 {
        p.0
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Priority {
    type Err = String;

    /// `low`, `normal`, `high`, or a level 0–9.
    fn from_str(s: &str) -> Result<Priority, String> {
        match s.trim() {
            "low" => Ok(Priority::LOW),
            "normal" => Ok(Priority::NORMAL),
            "high" => Ok(Priority::HIGH),
            t => match t.parse::<u8>() {
                Ok(n) => Priority::new(n),
                Err(_) => Err(format!("{s:?} is not low, normal, high or a level 0-9")),
            },
        }
    }
}

/// Priorities as they are written in files: a name or a number.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum PriorityText {
    Level(u8),
    Name(String),
}

impl TryFrom<PriorityText> for Priority {
    type Error = String;
    fn try_from(t: PriorityText) -> Result<Priority, String> {
        match t {
            PriorityText::Level(n) => Priority::new(n),
            PriorityText::Name(s) => s.parse(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_parse_by_name_and_level() {
        assert_eq!("low".parse(), Ok(Priority::LOW));
        assert_eq!("high".parse(), Ok(Priority::HIGH));
        assert_eq!("7".parse(), Ok(Priority(7)));
        assert!("10".parse::<Priority>().unwrap_err().contains("above 9"));
        assert!("urgent".parse::<Priority>().unwrap_err().contains("urgent"));
    }
}
