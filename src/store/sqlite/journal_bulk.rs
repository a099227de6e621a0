//! Multi-row inserts for journal bursts, the heaviest write load the store sees.

use std::fmt::Write as _;
use std::sync::LazyLock;

use rusqlite::{CachedStatement, Connection};

use crate::store::records::JournalEntry;

/// Journal entries per multi-row INSERT in [`JournalBulk`].
pub(crate) const JOURNAL_BULK: usize = 64;

/// Largest entry (sum of its text) [`JournalBulk`] takes; larger ones go row by row.
/// Far below SQLite's own size limit, so no bulk row can hit it.
const JOURNAL_BULK_MAX_BYTES: usize = 64 * 1024;

/// `INSERT OR FAIL ... VALUES (...), (...), ...` with [`JOURNAL_BULK`] rows.
///
/// `OR FAIL` spares SQLite the statement journal (a copy of every page the statement
/// touches, kept so a constraint failure can undo the statement's earlier rows), which
/// would eat much of the gain. Nothing in a journal row can violate a constraint, and
/// oversized rows are kept out, so the only way this statement fails is the transaction
/// failing, and then the whole batch is rolled back anyway.
static JOURNAL_BULK_SQL: LazyLock<String> = LazyLock::new(|| {
    let row = "(?, ?, ?, ?, ?, ?, ?, ?)";
    format!(
        "INSERT OR FAIL INTO journal
             (node, entry_type, ts, user, action, status, execution_id, details)
         VALUES {}",
        vec![row; JOURNAL_BULK].join(", ")
    )
});

/// Appends journal entries [`JOURNAL_BULK`] at a time with one statement, in order (so
/// ids rise in order too): much of a single-row insert's cost is statement overhead
/// rather than storage.
///
/// Keep one per transaction: handing the statement back to rusqlite's cache after every
/// use would clear all 512 bindings each time, wasted work between two uses.
pub(crate) struct JournalBulk<'conn> {
    stmt: CachedStatement<'conn>,
    details: String,
}

impl<'conn> JournalBulk<'conn> {
    pub(crate) fn new(conn: &'conn Connection) -> rusqlite::Result<Self> {
        Ok(JournalBulk {
            stmt: conn.prepare_cached(&JOURNAL_BULK_SQL)?,
            details: String::new(),
        })
    }

    /// Inserts `entries`, or nothing and `Ok(false)` if one is too large for a bulk row
    /// (the caller then inserts them one by one).
    pub(crate) fn insert(
        &mut self,
        entries: &[&JournalEntry; JOURNAL_BULK],
    ) -> rusqlite::Result<bool> {
        let stmt = &mut self.stmt;
        for (row, j) in entries.iter().enumerate() {
            // SQLite copies bound text, so one buffer serves every row.
            self.details.clear();
            // Writing to a String cannot fail.
            let _ = write!(self.details, "{}", j.details);
            let optional = |s: &Option<String>| s.as_ref().map_or(0, String::len);
            let size = j.node.len()
                + j.user.len()
                + j.action.len()
                + self.details.len()
                + optional(&j.status)
                + optional(&j.execution_id);
            if size > JOURNAL_BULK_MAX_BYTES {
                return Ok(false);
            }
            let at = row * 8;
            stmt.raw_bind_parameter(at + 1, &j.node)?;
            stmt.raw_bind_parameter(at + 2, j.entry_type.as_str())?;
            stmt.raw_bind_parameter(at + 3, j.timestamp)?;
            stmt.raw_bind_parameter(at + 4, &j.user)?;
            stmt.raw_bind_parameter(at + 5, &j.action)?;
            stmt.raw_bind_parameter(at + 6, &j.status)?;
            stmt.raw_bind_parameter(at + 7, &j.execution_id)?;
            stmt.raw_bind_parameter(at + 8, self.details.as_str())?;
        }
        stmt.raw_execute()?;
        Ok(true)
    }
}
