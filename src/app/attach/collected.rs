//! A run's nodes and output as a client of the service saw them in the run's
//! stream: what `-o grouped` reads at the end, in place of the engine's rings
//! (the same ring size, the same grouping by everything each node printed).

use std::collections::HashMap;

use xxhash_rust::xxh3::Xxh3;

use crate::app::batch::render::RunOutput;
use crate::engine::report::output::RingRead;
use crate::engine::{
    EngineEvent, ExecutionId, ExecutionSnapshot, ExecutionStatus, NodeSnapshot, NodeStatus,
    Progress, StreamItem,
};
use crate::store::Stream;

/// The latest bytes of one stream, and a hash and count of all of them.
struct Kept {
    data: Vec<u8>,
    total: u64,
    hash: Xxh3,
}

impl Default for Kept {
    fn default() -> Kept {
        Kept {
            data: Vec::new(),
            total: 0,
            hash: Xxh3::new(),
        }
    }
}

struct NodeSeen {
    name: String,
    status: NodeStatus,
    exit_code: Option<i32>,
    out: [Kept; 2],
}

pub struct Collected {
    capacity: usize,
    nodes: Vec<NodeSeen>,
    index: HashMap<String, usize>,
    status: ExecutionStatus,
    progress: Progress,
}

fn slot(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

impl Collected {
    /// Keeps up to `capacity` bytes per node and stream, as a ring does.
    pub fn new(capacity: usize) -> Collected {
        Collected {
            capacity: capacity.max(1),
            nodes: Vec::new(),
            index: HashMap::new(),
            status: ExecutionStatus::Queued,
            progress: Progress::default(),
        }
    }

    fn node(&mut self, name: &str) -> &mut NodeSeen {
        let i = match self.index.get(name) {
            Some(i) => *i,
            None => {
                self.nodes.push(NodeSeen {
                    name: name.to_string(),
                    status: NodeStatus::Pending,
                    exit_code: None,
                    out: Default::default(),
                });
                self.index.insert(name.to_string(), self.nodes.len() - 1);
                self.nodes.len() - 1
            }
        };
        &mut self.nodes[i]
    }

    pub fn item(&mut self, item: &StreamItem) {
        let capacity = self.capacity;
        match item {
            StreamItem::Output { node, stream, data } => {
                let kept = &mut self.node(node).out[slot(*stream)];
                kept.total += data.len() as u64;
                kept.hash.update(data);
                kept.data.extend_from_slice(data);
                // Trimmed in batches: a byte at a time would move the ring every chunk.
                if kept.data.len() >= capacity * 2 {
                    let cut = kept.data.len() - capacity;
                    kept.data.drain(..cut);
                }
            }
            StreamItem::Event(EngineEvent::ExecutionQueued { nodes, .. }) => {
                for n in nodes {
                    self.node(n);
                }
            }
            StreamItem::Event(EngineEvent::NodeFinished {
                node,
                status,
                exit_code,
                progress,
                ..
            }) => {
                let seen = self.node(node);
                seen.status = *status;
                seen.exit_code = *exit_code;
                self.progress = *progress;
            }
            StreamItem::Event(EngineEvent::ExecutionFinished {
                status, progress, ..
            }) => {
                self.status = *status;
                self.progress = *progress;
            }
            StreamItem::Event(_) => {}
        }
    }
}

impl RunOutput for Collected {
    fn snapshot(&self, id: &ExecutionId) -> Option<ExecutionSnapshot> {
        Some(ExecutionSnapshot {
            id: id.clone(),
            action: String::new(),
            targets: String::new(),
            user: String::new(),
            status: self.status,
            started_at: 0,
            elapsed: Default::default(),
            progress: self.progress,
            nodes: self
                .nodes
                .iter()
                .map(|n| NodeSnapshot {
                    name: n.name.clone(),
                    status: n.status,
                    exit_code: n.exit_code,
                    duration: None,
                    attempts: 1,
                    error: None,
                    stdout_bytes: n.out[0].total,
                    stderr_bytes: n.out[1].total,
                    stdout_hash: n.out[0].hash.digest(),
                    stderr_hash: n.out[1].hash.digest(),
                })
                .collect(),
        })
    }

    fn read_output(
        &self,
        _id: &ExecutionId,
        node: &str,
        stream: Stream,
        since: u64,
    ) -> Option<RingRead> {
        let kept = &self.nodes[*self.index.get(node)?].out[slot(stream)];
        let start = kept.total - kept.data.len() as u64;
        // What a ring of `capacity` bytes would still hold.
        let first_kept = kept.total - kept.data.len().min(self.capacity) as u64;
        let from = since.max(first_kept);
        Some(RingRead {
            data: kept.data[(from - start) as usize..].to_vec(),
            next: kept.total,
            missed: from - since,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(node: &str, data: &[u8]) -> StreamItem {
        StreamItem::Output {
            node: node.into(),
            stream: Stream::Stdout,
            data: data.to_vec(),
        }
    }

    #[test]
    fn keeps_the_latest_bytes_as_a_ring_of_the_same_size_would() {
        let mut c = Collected::new(4);
        let id = ExecutionId("x".into());
        for piece in [b"abc".as_slice(), b"defgh", b"ij"] {
            c.item(&chunk("a", piece));
        }
        let read = c.read_output(&id, "a", Stream::Stdout, 0).expect("node a");
        assert_eq!(read.data, b"ghij");
        assert_eq!((read.missed, read.next), (6, 10));
        let read = c.read_output(&id, "a", Stream::Stdout, 8).expect("node a");
        assert_eq!((read.data.as_slice(), read.missed), (b"ij".as_slice(), 0));
    }

    #[test]
    fn nodes_with_the_same_output_hash_alike_however_it_was_chunked() {
        let mut c = Collected::new(1 << 10);
        c.item(&chunk("a", b"hello\n"));
        c.item(&chunk("b", b"hel"));
        c.item(&chunk("b", b"lo\n"));
        c.item(&chunk("c", b"other\n"));
        let snap = c.snapshot(&ExecutionId("x".into())).expect("snapshot");
        let hash = |i: usize| snap.nodes[i].stdout_hash;
        assert_eq!(hash(0), hash(1));
        assert_ne!(hash(0), hash(2));
    }
}
