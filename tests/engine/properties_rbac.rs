//! Seeds property 42 (RBAC enforcement): for any capability invocation the
//! policy is checked before anything runs, and unauthorised users are refused.
//! Random roles (capabilities, target limits, command allow and deny lists),
//! random users and random requests are decided by the engine and by a plain
//! model written here; they must agree. Refused executions never reach the
//! transport and leave an `event` journal entry on each refused node.

use crate::common;

use common::scripted::{SCRIPTED, ScriptedTransport};
use common::{cases, ctx, runtime, scripted_engine_with, temp_store, within};
use drover::config::{RbacConfig, RoleConfig};
use drover::engine::inventory::nodeset::expand;
use drover::engine::rbac::Capability;
use drover::engine::{EngineConfig, EngineError, ExecutionOptions, ExecutionRequest, Submission};
use drover::engine::{Inventory, Node};
use drover::store::EntryType;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

const NODES: [&str; 6] = ["n1", "n2", "n3", "n4", "n5", "n6"];
const GROUPS: [(&str, &[&str]); 4] = [
    ("a", &["n1", "n2"]),
    ("b", &["n3", "n4"]),
    ("c", &["n5", "n6"]),
    ("d", &["n2", "n3"]),
];
/// Role target limits and the node names each selects.
const TARGETS: [(&str, &[&str]); 5] = [
    ("@a", &["n1", "n2"]),
    ("@b", &["n3", "n4"]),
    ("@a,@c", &["n1", "n2", "n5", "n6"]),
    ("n5", &["n5"]),
    ("@d!n3", &["n2"]),
];
const CAPABILITIES: [&str; 7] = [
    "command.run",
    "history.read",
    "journal.read",
    "journal.write",
    "inventory.read",
    "task.run:dep*",
    "admin",
];
const ALLOW: [&str; 3] = ["echo", "uptime", "echo hi; true"];
const DENY: [&str; 2] = ["true", "echo secret"];
const COMMANDS: [&str; 6] = [
    "echo hi",
    "echo secret stuff",
    "uptime",
    "true",
    "echo hi; true",
    "uptime; echo hi",
];

#[derive(Debug, Clone)]
struct RoleSpec {
    caps: BTreeSet<usize>,
    targets: Option<usize>,
    allow: BTreeSet<usize>,
    deny: BTreeSet<usize>,
}

fn role() -> impl Strategy<Value = RoleSpec> {
    (
        prop::collection::btree_set(0..CAPABILITIES.len(), 0..3),
        prop::option::of(0..TARGETS.len()),
        prop::collection::btree_set(0..ALLOW.len(), 0..2),
        prop::collection::btree_set(0..DENY.len(), 0..2),
    )
        .prop_map(|(caps, targets, allow, deny)| RoleSpec {
            caps,
            targets,
            allow,
            deny,
        })
}

/// What is asked: a capability, the nodes, and the command (for command.run).
#[derive(Debug, Clone)]
enum Ask {
    Run {
        nodes: Vec<usize>,
        command: usize,
    },
    Other {
        capability: String,
        nodes: Vec<usize>,
    },
}

fn ask() -> impl Strategy<Value = Ask> {
    let nodes = prop::collection::btree_set(0..NODES.len(), 1..4)
        .prop_map(|s| s.into_iter().collect::<Vec<_>>());
    prop_oneof![
        (nodes.clone(), 0..COMMANDS.len()).prop_map(|(nodes, command)| Ask::Run { nodes, command }),
        (
            prop::sample::select(vec![
                "history.read",
                "journal.read",
                "journal.write",
                "inventory.read",
                "task.run:deploy",
                "task.run:backup",
                "facts.read",
            ]),
            prop::collection::btree_set(0..NODES.len(), 0..3),
        )
            .prop_map(|(c, nodes)| Ask::Other {
                capability: c.to_string(),
                nodes: nodes.into_iter().collect()
            }),
    ]
}

/// The model: the pieces of a command split at `;`, exact or word-prefix matches.
fn pattern_matches(pattern: &str, piece: &str) -> bool {
    piece == pattern || piece.starts_with(&format!("{pattern} "))
}

fn command_ok(role: &RoleSpec, command: &str) -> bool {
    let pieces: Vec<&str> = command.split(';').map(str::trim).collect();
    let denied = pieces
        .iter()
        .any(|p| role.deny.iter().any(|&d| pattern_matches(DENY[d], p)));
    if denied {
        return false;
    }
    if role.allow.is_empty() || role.allow.iter().any(|&a| ALLOW[a] == command) {
        return true;
    }
    pieces
        .iter()
        .all(|p| role.allow.iter().any(|&a| pattern_matches(ALLOW[a], p)))
}

fn grants(role: &RoleSpec, wanted: &str) -> bool {
    role.caps.iter().any(|&c| {
        let held = CAPABILITIES[c];
        held == "admin"
            || held == wanted
            || (held == "task.run:dep*" && wanted.starts_with("task.run:dep"))
    })
}

fn covers(role: &RoleSpec, node: &str) -> bool {
    role.targets.is_none_or(|t| TARGETS[t].1.contains(&node))
}

/// Allowed when every node (or, for no node, the request itself) is covered by a
/// role that grants the capability and allows the command.
fn model_allows(
    roles: &[&RoleSpec],
    capability: &str,
    nodes: &[&str],
    command: Option<&str>,
) -> bool {
    let usable: Vec<&&RoleSpec> = roles
        .iter()
        .filter(|r| grants(r, capability) && command.is_none_or(|c| command_ok(r, c)))
        .collect();
    if nodes.is_empty() {
        return !usable.is_empty();
    }
    nodes.iter().all(|n| usable.iter().any(|r| covers(r, n)))
}

fn inventory() -> Inventory {
    let mut inv = Inventory::default();
    for name in NODES {
        let mut node = Node::local(name, "test");
        node.transport = SCRIPTED.into();
        node.groups = GROUPS
            .iter()
            .filter(|(_, members)| members.contains(&name))
            .map(|(g, _)| g.to_string())
            .collect();
        inv.add(node);
    }
    inv
}

fn config(roles: &[RoleSpec], alice: &BTreeSet<usize>) -> RbacConfig {
    let list = |set: &BTreeSet<usize>, from: &[&str]| -> Vec<String> {
        set.iter().map(|&i| from[i].to_string()).collect()
    };
    RbacConfig {
        roles: roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    format!("r{i}"),
                    RoleConfig {
                        capabilities: list(&r.caps, &CAPABILITIES),
                        targets: r.targets.map(|t| TARGETS[t].0.to_string()),
                        allow_commands: list(&r.allow, &ALLOW),
                        deny_commands: list(&r.deny, &DENY),
                    },
                )
            })
            .collect(),
        users: BTreeMap::from([(
            "alice".to_string(),
            alice.iter().map(|i| format!("r{i}")).collect(),
        )]),
        default_roles: Vec::new(),
    }
}

proptest! {
    #![proptest_config(cases(96))]

    #[test]
    fn property_42_rbac_enforcement(
        roles in prop::collection::vec(role(), 1..4),
        alice_roles in prop::collection::btree_set(0usize..3, 0..3),
        is_alice in prop::bool::weighted(0.85),
        ask in ask(),
    ) {
        let alice_roles: BTreeSet<usize> =
            alice_roles.into_iter().filter(|&i| i < roles.len()).collect();
        let policy = config(&roles, &alice_roles).policy().expect("valid policy");
        let user = if is_alice { "alice" } else { "mallory" };
        let held: Vec<&RoleSpec> = if is_alice {
            alice_roles.iter().map(|&i| &roles[i]).collect()
        } else {
            Vec::new()
        };
        let (_dir, store) = temp_store();
        let transport = Arc::new(ScriptedTransport::new(HashMap::new()));
        let rt = runtime();
        rt.block_on(async {
            let engine = scripted_engine_with(
                &transport,
                inventory(),
                EngineConfig::default(),
                Some(store.writer()),
            )
            .with_authorizer(Arc::new(policy));
            let (capability, nodes, command, outcome) = match &ask {
                Ask::Run { nodes, command } => {
                    let names: Vec<&str> = nodes.iter().map(|&i| NODES[i]).collect();
                    let request = ExecutionRequest {
                        command: COMMANDS[*command].to_string(),
                        targets: names.join(","),
                        options: ExecutionOptions::default(),
                    };
                    let outcome = within("run", common::run(&engine, request, ctx(user))).await?;
                    let expected =
                        model_allows(&held, "command.run", &names, Some(COMMANDS[*command]));
                    match &outcome {
                        Ok(result) => {
                            prop_assert!(expected, "engine ran what the model refuses");
                            prop_assert_eq!(result.nodes.len(), names.len());
                            prop_assert_eq!(transport.calls(), names.len());
                        }
                        Err(_) => {
                            prop_assert!(!expected, "engine refused what the model allows: {:?}", outcome);
                            // Checked before execution: the transport never ran anything.
                            prop_assert_eq!(transport.calls(), 0);
                            prop_assert!(engine.executions().is_empty());
                        }
                    }
                    let outcome = outcome.map(|_| ());
                    ("command.run".to_string(), names, Some(COMMANDS[*command]), outcome)
                }
                Ask::Other { capability, nodes } => {
                    let names: Vec<&str> = nodes.iter().map(|&i| NODES[i]).collect();
                    let cap = Capability::parse(capability).expect("capability");
                    let outcome = engine.authorize(&ctx(user), &cap, &names).await;
                    let expected = model_allows(&held, capability, &names, None);
                    prop_assert_eq!(outcome.is_ok(), expected, "{:?}", outcome);
                    (capability.clone(), names, None, outcome)
                }
            };
            let Err(e) = outcome else { return Ok(()) };
            let EngineError::Authorization { user: u, capability: c, target, .. } = &e else {
                return Err(TestCaseError::fail(format!("not an Authorization error: {e}")));
            };
            prop_assert_eq!(u, user);
            prop_assert_eq!(c, &capability);
            // The target names exactly the nodes the model refuses one by one (or the
            // pseudo node when the request concerns none), and each is audited.
            let refused: BTreeSet<String> = if nodes.is_empty() {
                BTreeSet::from(["drover".to_string()])
            } else {
                nodes
                    .iter()
                    .filter(|n| !model_allows(&held, &capability, &[n], command))
                    .map(|n| n.to_string())
                    .collect()
            };
            let named: BTreeSet<String> = expand(target).expect("target is a node set").into_iter().collect();
            prop_assert_eq!(&named, &refused);
            for node in &named {
                let entries = store.journal(node, &[EntryType::Event], None).expect("journal");
                prop_assert!(
                    entries.iter().any(|j| j.user == user
                        && j.status.as_deref() == Some("denied")
                        && j.action.contains(&capability)),
                    "no audit entry on {}: {:?}", node, entries
                );
            }
            Ok(())
        })?;
    }
}

/// Tasks are authorised by `task.run:<glob>` (not `command.run`) through
/// a submission's capability; unlisted users get `default_roles`.
#[test]
fn tasks_are_checked_by_task_capability_and_default_roles_apply() {
    let rbac = RbacConfig {
        roles: BTreeMap::from([(
            "deployer".to_string(),
            RoleConfig {
                capabilities: vec!["task.run:deploy_*".into()],
                targets: Some("@a".into()),
                allow_commands: vec!["nothing".into()],
                deny_commands: Vec::new(),
            },
        )]),
        users: BTreeMap::new(),
        default_roles: vec!["deployer".into()],
    };
    let transport = Arc::new(ScriptedTransport::new(HashMap::new()));
    runtime().block_on(async {
        let engine = scripted_engine_with(&transport, inventory(), EngineConfig::default(), None)
            .with_authorizer(Arc::new(rbac.policy().expect("policy")));
        let request = |targets: &str| ExecutionRequest {
            command: "sh ./deploy_web.sh".into(),
            targets: targets.into(),
            options: ExecutionOptions::default(),
        };
        let task = |name: &str| Capability::TaskRun(name.into());
        let as_task = |targets: &str, cap: Capability| {
            Submission::request(request(targets))
                .as_user(ctx("anyone"))
                .capability(cap)
        };
        let id = engine
            .submit(as_task("@a", task("deploy_web")))
            .await
            .expect("task allowed on @a")
            .id;
        engine.wait(&id).await.expect("finished");
        assert_eq!(transport.calls(), 2);
        for (targets, cap) in [("@a", task("backup")), ("n3", task("deploy_web"))] {
            let e = engine
                .submit(as_task(targets, cap))
                .await
                .expect_err("refused");
            assert!(matches!(e, EngineError::Authorization { .. }), "{e}");
        }
        let e = common::submit(&engine, request("@a"), ctx("anyone"))
            .await
            .expect_err("no command.run");
        assert!(e.to_string().contains("command.run"), "{e}");
        assert_eq!(transport.calls(), 2, "nothing refused ran");
    });
}

/// A manual note needs `journal.write` on its node, whichever front end writes it.
#[test]
fn manual_notes_need_journal_write_on_the_node() {
    let rbac = RbacConfig {
        roles: BTreeMap::from([(
            "scribe".to_string(),
            RoleConfig {
                capabilities: vec!["journal.write".into()],
                targets: Some("@a".into()),
                ..RoleConfig::default()
            },
        )]),
        users: BTreeMap::from([("alice".to_string(), vec!["scribe".into()])]),
        default_roles: Vec::new(),
    };
    let (_dir, store) = temp_store();
    let transport = Arc::new(ScriptedTransport::new(HashMap::new()));
    runtime().block_on(async {
        let engine = scripted_engine_with(
            &transport,
            inventory(),
            EngineConfig::default(),
            Some(store.writer()),
        )
        .with_authorizer(Arc::new(rbac.policy().expect("policy")));
        let note = |node: &str| drover::store::JournalEntry {
            id: 0,
            node: node.into(),
            entry_type: EntryType::Manual,
            timestamp: 1,
            user: "alice".into(),
            action: "replaced a disk".into(),
            status: None,
            execution_id: None,
            details: serde_json::json!({}),
        };
        engine
            .append_journal(note("n1"))
            .await
            .expect("n1 is in @a");
        let e = engine
            .append_journal(note("n5"))
            .await
            .expect_err("n5 is not");
        assert!(e.to_string().contains("journal.write"), "{e}");
        engine.flush().await.expect("flush");
        let n5 = store.journal("n5", &[], None).expect("journal");
        assert_eq!(n5.len(), 1, "only the audit entry: {n5:?}");
        assert_eq!(n5[0].entry_type, EntryType::Event);
        assert_eq!(
            store
                .journal("n1", &[EntryType::Manual], None)
                .unwrap()
                .len(),
            1
        );
    });
}
