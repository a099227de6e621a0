//! Session transcripts: one row per session (what it was, where, its terminal,
//! how much was recorded and whether it was cut) and its output in chunks of
//! timed frames, written as the session goes. The frame encoding is the
//! engine's; the store keeps the chunks as they come.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteBackend;
use super::rows;
use crate::store::error::StoreError;
use crate::store::records::TranscriptRecord;
use crate::store::records::{JournalEntry, Millis};

pub(crate) fn insert(conn: &Connection, t: &TranscriptRecord) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO transcripts
            (id, node, user, action, started_at, width, height, term, ended_at, bytes, cut_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        t.id,
        t.node,
        t.user,
        t.action,
        t.started_at,
        t.width,
        t.height,
        t.term,
        t.ended_at,
        t.bytes as i64,
        t.cut_at.map(|c| c as i64),
    ])
    .map(drop)
}

pub(crate) fn insert_chunk(
    conn: &Connection,
    id: &str,
    seq: u32,
    data: &[u8],
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO transcript_chunks (transcript_id, seq, data) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![id, seq, data])
    .map(drop)
}

pub(crate) fn end(
    conn: &Connection,
    id: &str,
    ended_at: Millis,
    bytes: u64,
    cut_at: Option<u64>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE transcripts SET ended_at = ?2, bytes = ?3, cut_at = ?4 WHERE id = ?1",
    )?
    .execute(params![
        id,
        ended_at,
        bytes as i64,
        cut_at.map(|c| c as i64)
    ])
    .map(drop)
}

impl SqliteBackend {
    /// A transcript by its id.
    pub fn transcript(&self, id: &str) -> Result<Option<TranscriptRecord>, StoreError> {
        let conn = self.reader();
        let row = conn
            .prepare_cached(
                "SELECT id, node, user, action, started_at, width, height, term, ended_at,
                        bytes, cut_at
                 FROM transcripts WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok(TranscriptRecord {
                    id: r.get(0)?,
                    node: r.get(1)?,
                    user: r.get(2)?,
                    action: r.get(3)?,
                    started_at: r.get(4)?,
                    width: r.get(5)?,
                    height: r.get(6)?,
                    term: r.get(7)?,
                    ended_at: r.get(8)?,
                    bytes: r.get::<_, i64>(9)?.max(0) as u64,
                    cut_at: r.get::<_, Option<i64>>(10)?.map(|c| c.max(0) as u64),
                })
            })
            .optional()?;
        Ok(row)
    }

    /// Chunk `seq` of a transcript (from 0, without gaps), `None` past the last.
    pub fn transcript_chunk(&self, id: &str, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.reader();
        let data = conn
            .prepare_cached(
                "SELECT data FROM transcript_chunks WHERE transcript_id = ?1 AND seq = ?2",
            )?
            .query_row(params![id, seq], |r| r.get(0))
            .optional()?;
        Ok(data)
    }

    /// One journal entry by its id.
    pub fn journal_entry(&self, id: i64) -> Result<Option<JournalEntry>, StoreError> {
        let conn = self.reader();
        let sql = format!(
            "SELECT {} FROM journal WHERE id = ?1",
            rows::JOURNAL_COLUMNS
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query_and_then([id], rows::journal_from_row)?;
        rows.next().transpose()
    }
}
