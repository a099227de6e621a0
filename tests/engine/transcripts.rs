//! Session transcripts through the engine's door: recorded as they are printed,
//! in chunks, into the real store; read back frame by frame by their id or by
//! a journal entry linking to them, under `journal.read` on their node; cut at
//! their limit; kept through a reopen of the store.

use crate::common;

use common::{ctx, local_engine, names, runtime, temp_store};
use drover::config::{RbacConfig, RoleConfig};
use drover::engine::records::{EntryType, JournalEntry, Stream, TranscriptRecord};
use drover::engine::transcript::{DETAIL_KEY, Frame, chunker::CHUNK_BYTES};
use drover::engine::{EngineConfig, EngineError};
use std::collections::BTreeMap;
use std::sync::Arc;

fn header(node: &str) -> TranscriptRecord {
    TranscriptRecord {
        id: String::new(),
        node: node.into(),
        user: "ann".into(),
        action: "session: shell".into(),
        started_at: 0,
        width: Some(80),
        height: Some(24),
        term: Some("xterm-256color".into()),
        ended_at: None,
        bytes: 0,
        cut_at: None,
    }
}

fn policy() -> RbacConfig {
    let role = RoleConfig {
        capabilities: vec!["journal.read".into()],
        targets: Some("n0".into()),
        allow_commands: Vec::new(),
        deny_commands: Vec::new(),
    };
    RbacConfig {
        roles: BTreeMap::from([("reader".to_string(), role)]),
        users: BTreeMap::from([("ann".to_string(), vec!["reader".into()])]),
        default_roles: Vec::new(),
    }
}

fn all_frames(mut reader: drover::engine::transcript::TranscriptReader) -> Vec<Frame> {
    let mut frames = Vec::new();
    while let Some(more) = reader.next_frames().expect("chunk reads") {
        frames.extend(more);
    }
    frames
}

#[test]
fn a_transcript_is_recorded_in_chunks_and_read_back_by_id_or_journal_entry() {
    let nodes = names("n", 2);
    let (_dir, store) = temp_store();
    let engine = local_engine(&nodes, EngineConfig::default(), Some(store.writer()))
        .with_authorizer(Arc::new(policy().policy().expect("policy")))
        .with_store(store.clone());
    runtime().block_on(async {
        let sink = engine
            .start_transcript(header("n0"), 1 << 20)
            .await
            .expect("recording starts");
        let id = sink.id().to_string();
        assert_eq!(id.len(), 16, "{id}");
        sink.record(Stream::Stdout, b"first\r\n");
        sink.record(Stream::Stderr, b"oops\r\n");
        // More than a chunk holds: several chunks, none held whole in memory.
        let big = vec![b'x'; 3 * CHUNK_BYTES];
        sink.record(Stream::Stdout, &big);
        let summary = sink.finish().await;
        assert_eq!(summary.bytes, 13 + big.len() as u64);
        assert_eq!(summary.cut_at, None);

        let entry = JournalEntry {
            id: 0,
            node: "n0".into(),
            entry_type: EntryType::Event,
            timestamp: 1,
            user: "ann".into(),
            action: "session: shell ended".into(),
            status: Some("success".into()),
            execution_id: None,
            details: serde_json::json!({ DETAIL_KEY: id }),
        };
        engine.append_journal(entry).await.unwrap();
        engine.flush().await.unwrap();

        let reader = engine
            .read_transcript(&ctx("ann"), &id)
            .await
            .expect("ann reads n0's journal")
            .expect("found by its id");
        let record = reader.record().clone();
        assert_eq!((record.node.as_str(), record.width), ("n0", Some(80)));
        assert!(record.ended_at.is_some());
        assert_eq!(record.bytes, summary.bytes);
        let frames = all_frames(reader);
        assert_eq!(frames[0].data, b"first\r\n");
        assert_eq!(frames[1].stream, Stream::Stderr);
        let out: Vec<u8> = frames
            .iter()
            .filter(|f| f.stream == Stream::Stdout)
            .flat_map(|f| f.data.clone())
            .collect();
        assert_eq!(out.len(), 7 + big.len());
        assert!(frames.windows(2).all(|w| w[0].offset_ms <= w[1].offset_ms));

        let journal = engine
            .read_journal(&ctx("ann"), "n0", Vec::new(), None)
            .await
            .unwrap();
        let entry_id = journal[0].id.to_string();
        let by_entry = engine
            .read_transcript(&ctx("ann"), &entry_id)
            .await
            .unwrap()
            .expect("found through the journal entry");
        assert_eq!(by_entry.record().id, id);

        assert!(
            engine
                .read_transcript(&ctx("ann"), "ffffffffffffffff")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            engine
                .read_transcript(&ctx("ann"), "999999")
                .await
                .unwrap()
                .is_none()
        );
        // bob has no journal.read on n0: refused, nothing read.
        match engine.read_transcript(&ctx("bob"), &id).await {
            Err(EngineError::Authorization { capability, .. }) => {
                assert_eq!(capability, "journal.read")
            }
            other => panic!("expected a refusal, got {:?}", other.map(|r| r.is_some())),
        }
    });
}

#[test]
fn output_past_the_limit_is_not_recorded_and_the_transcript_says_where_it_was_cut() {
    let nodes = names("n", 1);
    let (dir, store) = temp_store();
    let engine = local_engine(&nodes, EngineConfig::default(), Some(store.writer()))
        .with_store(store.clone());
    let id = runtime().block_on(async {
        let sink = engine.start_transcript(header("n0"), 10).await.unwrap();
        sink.record(Stream::Stdout, b"0123456");
        sink.record(Stream::Stdout, b"789abcdef");
        sink.record(Stream::Stdout, b"never");
        let summary = sink.finish().await;
        assert_eq!((summary.bytes, summary.cut_at), (10, Some(10)));
        engine.flush().await.unwrap();
        summary.id
    });
    store.close().unwrap();
    // Read back from the file by a fresh store: the transcript outlived its process.
    let store = drover::store::Store::open(&dir.path().join("drover.db")).expect("reopen");
    let engine = local_engine(&nodes, EngineConfig::default(), Some(store.writer()))
        .with_store(store.clone());
    runtime().block_on(async {
        let reader = engine
            .read_transcript(&ctx("ann"), &id)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(reader.record().cut_at, Some(10));
        let bytes: Vec<u8> = all_frames(reader)
            .into_iter()
            .flat_map(|f| f.data)
            .collect();
        assert_eq!(bytes, b"0123456789");
    });
}
