//! Moving a history between stores (`drover store copy`): what travels, and the
//! loop that moves it.
//!
//! Idempotent and resumable: a run is written with its node results and output in
//! one transaction and skipped when the target already has it; journal entries
//! travel in pages of the source's ids, each page committed together with how far
//! the copy from this source has come, so an interrupted copy resumes after the
//! last page and a repeated one adds nothing.

use super::error::StoreError;
use super::records::{ExecutionRecord, JournalEntry, Millis, NodeResultRecord, Stream};

/// Runs and journal entries read per page.
pub const PAGE: usize = 500;

/// One run as it travels: the execution, its node results, and its debug-mode
/// output chunks in order (decoded; the target stores them its own way).
#[derive(Debug, Clone, PartialEq)]
pub struct RunExport {
    pub execution: ExecutionRecord,
    pub results: Vec<NodeResultRecord>,
    pub chunks: Vec<ChunkExport>,
}

/// One output chunk of a run, numbered per node from 0 as in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkExport {
    pub node: String,
    pub seq: i64,
    pub stream: Stream,
    pub data: Vec<u8>,
}

/// Where a paging of runs stands: the last run read, in `(started_at, id)` order.
pub type RunCursor = (Millis, String);

/// What a copy moved and what the target already had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CopyReport {
    pub runs_copied: usize,
    pub runs_present: usize,
    pub journal_copied: usize,
}

/// The source's side of a copy.
pub(crate) trait ExportSource {
    /// Up to `limit` runs after `after`, oldest first.
    fn export_runs(
        &self,
        after: Option<&RunCursor>,
        limit: usize,
    ) -> Result<Vec<RunExport>, StoreError>;
    /// Up to `limit` journal entries with ids above `after_id`, by id.
    fn export_journal(&self, after_id: i64, limit: usize) -> Result<Vec<JournalEntry>, StoreError>;
}

/// The target's side of a copy.
pub(crate) trait ImportTarget {
    /// Writes each run not yet present (with its results and output) in one
    /// transaction; returns how many were new.
    fn import_runs(&self, source: &str, runs: &[RunExport]) -> Result<usize, StoreError>;
    /// The highest source journal id copied from `source` so far (0 for none).
    fn journal_checkpoint(&self, source: &str) -> Result<i64, StoreError>;
    /// Appends `entries` (ids above the checkpoint) and moves `source`'s
    /// checkpoint to the last one, in one transaction; returns how many were new.
    fn import_journal(&self, source: &str, entries: &[JournalEntry]) -> Result<usize, StoreError>;
}

/// Copies every run and journal entry of `from` into `to`; `source` names the
/// source for the journal checkpoint (its location). `progress` hears the report
/// after each page.
pub(crate) fn copy(
    from: &dyn ExportSource,
    to: &dyn ImportTarget,
    source: &str,
    mut progress: impl FnMut(&CopyReport),
) -> Result<CopyReport, StoreError> {
    let mut report = CopyReport::default();
    let mut cursor: Option<RunCursor> = None;
    loop {
        let runs = from.export_runs(cursor.as_ref(), PAGE)?;
        let Some(last) = runs.last() else { break };
        cursor = Some((last.execution.started_at, last.execution.id.clone()));
        let copied = to.import_runs(source, &runs)?;
        report.runs_copied += copied;
        report.runs_present += runs.len() - copied;
        progress(&report);
    }
    let mut after = to.journal_checkpoint(source)?;
    loop {
        let entries = from.export_journal(after, PAGE)?;
        let Some(last) = entries.last() else { break };
        after = last.id;
        report.journal_copied += to.import_journal(source, &entries)?;
        progress(&report);
    }
    Ok(report)
}
