//! Session transcripts in PostgreSQL: the session's row and its chunks of frames.

use postgres::GenericClient;

use super::statements::Statements;
use crate::store::error::StoreError;
use crate::store::records::Millis;
use crate::store::records::TranscriptRecord;

const INSERT: &str = "
INSERT INTO transcripts
    (id, node, \"user\", action, started_at, width, height, term, ended_at, bytes, cut_at)
VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint, $7::bigint,
    $8::text, $9::bigint, $10::bigint, $11::bigint)";

pub(crate) fn insert(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    t: &TranscriptRecord,
) -> Result<(), postgres::Error> {
    let stmt = statements.get(client, INSERT)?;
    client.execute(
        &stmt,
        &[
            &t.id,
            &t.node,
            &t.user,
            &t.action,
            &t.started_at,
            &t.width.map(i64::from),
            &t.height.map(i64::from),
            &t.term,
            &t.ended_at,
            &(t.bytes as i64),
            &t.cut_at.map(|c| c as i64),
        ],
    )?;
    Ok(())
}

const INSERT_CHUNK: &str = "INSERT INTO transcript_chunks (transcript_id, seq, data)
     VALUES ($1::text, $2::bigint, $3::bytea)";

pub(crate) fn insert_chunk(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    id: &str,
    seq: u32,
    data: &[u8],
) -> Result<(), postgres::Error> {
    let stmt = statements.get(client, INSERT_CHUNK)?;
    client.execute(&stmt, &[&id, &i64::from(seq), &data])?;
    Ok(())
}

const END: &str = "UPDATE transcripts SET ended_at = $2::bigint, bytes = $3::bigint,
     cut_at = $4::bigint WHERE id = $1::text";

pub(crate) fn end(
    client: &mut impl GenericClient,
    statements: &mut Statements,
    id: &str,
    ended_at: Millis,
    bytes: u64,
    cut_at: Option<u64>,
) -> Result<(), postgres::Error> {
    let stmt = statements.get(client, END)?;
    client.execute(
        &stmt,
        &[&id, &ended_at, &(bytes as i64), &cut_at.map(|c| c as i64)],
    )?;
    Ok(())
}

/// A transcript by its id.
pub(crate) fn transcript(
    client: &mut impl GenericClient,
    id: &str,
) -> Result<Option<TranscriptRecord>, StoreError> {
    let Some(r) = client.query_opt(
        "SELECT id, node, \"user\", action, started_at, width, height, term, ended_at,
                bytes, cut_at
         FROM transcripts WHERE id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let id: String = r.try_get(0)?;
    let size = |value: Option<i64>, what: &str| -> Result<Option<u16>, StoreError> {
        value
            .map(|v| {
                u16::try_from(v).map_err(|_| StoreError::Corrupt {
                    what: format!("{what} of transcript {id}"),
                    reason: format!("out of range: {v}"),
                })
            })
            .transpose()
    };
    Ok(Some(TranscriptRecord {
        node: r.try_get(1)?,
        user: r.try_get(2)?,
        action: r.try_get(3)?,
        started_at: r.try_get(4)?,
        width: size(r.try_get(5)?, "width")?,
        height: size(r.try_get(6)?, "height")?,
        term: r.try_get(7)?,
        ended_at: r.try_get(8)?,
        bytes: r.try_get::<_, i64>(9)?.max(0) as u64,
        cut_at: r.try_get::<_, Option<i64>>(10)?.map(|c| c.max(0) as u64),
        id,
    }))
}

/// Chunk `seq` of a transcript, `None` past the last.
pub(crate) fn transcript_chunk(
    client: &mut impl GenericClient,
    id: &str,
    seq: u32,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row = client.query_opt(
        "SELECT data FROM transcript_chunks WHERE transcript_id = $1 AND seq = $2",
        &[&id, &i64::from(seq)],
    )?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}
