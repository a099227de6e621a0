//! `[journal]`: how long history and journals are kept, and which execution types
//! are journaled, globally and per transport (a transport is drover's plug-in).

use super::{KeyError, retention};
use crate::engine::{JournalLevel, JournalRule};
use crate::store::EntryType;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JournalConfig {
    /// History executions and journal entries older than this are deleted at
    /// start-up; "none" keeps everything.
    pub retention: String,
    /// Entry types written to node journals.
    pub types: Vec<String>,
    /// Which node results get a journal entry: all, failures or none.
    pub level: String,
    /// Per transport (`local`, `ssh`): replaces `types` and `level` for its nodes.
    pub transports: BTreeMap<String, TransportJournal>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TransportJournal {
    pub types: Option<Vec<String>>,
    pub level: Option<String>,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            retention: "none".into(),
            types: EntryType::ALL.iter().map(|t| t.as_str().into()).collect(),
            level: "all".into(),
            transports: BTreeMap::new(),
        }
    }
}

impl JournalLevel {
    fn parse(s: &str) -> Option<JournalLevel> {
        match s {
            "all" => Some(JournalLevel::All),
            "failures" => Some(JournalLevel::Failures),
            "none" => Some(JournalLevel::None),
            _ => None,
        }
    }
}

fn types(section: &str, list: &[String]) -> Result<Vec<EntryType>, KeyError> {
    list.iter()
        .map(|t| {
            EntryType::parse(t).ok_or_else(|| {
                KeyError::new(
                    section,
                    "types",
                    format!("{t:?} is not execution, task, package, provisioning, event or manual"),
                )
            })
        })
        .collect()
}

fn level(section: &str, s: &str) -> Result<JournalLevel, KeyError> {
    JournalLevel::parse(s).ok_or_else(|| {
        KeyError::new(
            section,
            "level",
            format!("{s:?} is not all, failures or none"),
        )
    })
}

impl JournalConfig {
    pub(super) fn validate(&self) -> Result<(), KeyError> {
        retention(&self.retention).map_err(|r| KeyError::new("journal", "retention", r))?;
        types("journal", &self.types)?;
        level("journal", &self.level)?;
        for name in self.transports.keys() {
            self.rule_checked(name)?;
        }
        Ok(())
    }

    fn rule_checked(&self, transport: &str) -> Result<JournalRule, KeyError> {
        let mut rule = JournalRule {
            types: types("journal", &self.types)?,
            level: level("journal", &self.level)?,
        };
        if let Some(t) = self.transports.get(transport) {
            let section = format!("journal.transports.{transport}");
            if let Some(list) = &t.types {
                rule.types = types(&section, list)?;
            }
            if let Some(l) = &t.level {
                rule.level = level(&section, l)?;
            }
        }
        Ok(rule)
    }

    /// Journaling rules by transport name, plus the default for any other.
    pub fn rules(&self) -> (JournalRule, BTreeMap<String, JournalRule>) {
        let default = self.rule_checked("").unwrap_or_default();
        let per = self
            .transports
            .keys()
            .map(|n| (n.clone(), self.rule_checked(n).unwrap_or_default()))
            .collect();
        (default, per)
    }

    pub fn retention(&self) -> Option<Duration> {
        retention(&self.retention).ok().flatten()
    }
}
