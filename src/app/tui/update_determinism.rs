//! `update` is a function of the state and the stamped messages: the same
//! messages with the same stamps, given twice, leave the same state, draw the
//! same screen and ask for the same effects (a plan's id included).

use super::clock::Stamp;
use super::keymap::Keymap;
use super::keys::Key;
use super::msg::{Effect, Loaded, Msg};
use super::state::{AppState, UiOptions};
use super::update::update;
use crate::engine::{EngineEvent, ExecutionId, Inventory, Node};
use crate::store::Stream;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn messages() -> Vec<Msg> {
    let mut inventory = Inventory::default();
    for n in ["n1", "n2"] {
        inventory.add(Node::local(n, "lab"));
    }
    let run = ExecutionId("0000000000ae1".into());
    let mut msgs = vec![
        Msg::Loaded(Loaded::Inventory(Ok(Arc::new(inventory)))),
        Msg::Engine(EngineEvent::ExecutionQueued {
            execution: run.clone(),
            action: "uptime".into(),
            nodes: vec!["n1".into(), "n2".into()],
            user: "ops".into(),
            correlation_id: "c1".into(),
        }),
        Msg::Engine(EngineEvent::ExecutionStarted {
            execution: run.clone(),
            total: 2,
        }),
        Msg::Engine(EngineEvent::NodeStarted {
            execution: run.clone(),
            node: "n1".into(),
            attempt: 1,
        }),
        Msg::Output {
            execution: run,
            node: "n1".into(),
            stream: Stream::Stdout,
            data: b"up 3 days\n".to_vec(),
            missed: 0,
        },
        Msg::Tick,
    ];
    // The plan view (elapsed times), a plan started (its correlation id), and
    // the session's messages with their times.
    let keys = Key::sequence("<tab>2:plan p.yaml<enter>M").expect("valid keys");
    msgs.extend(keys.into_iter().map(|k| Msg::Key(k.to_event())));
    msgs
}

/// Runs the messages on a fresh state, each stamped 700 ms after the last.
fn run(base: Instant) -> (Vec<Effect>, Buffer, AppState) {
    let size = Rect::new(0, 0, 120, 30);
    let mut state = AppState::new(
        Arc::new(Keymap::defaults()),
        UiOptions::default(),
        size,
        "ops".into(),
    );
    let mut effects = Vec::new();
    for (i, msg) in messages().into_iter().enumerate() {
        let stamp = Stamp {
            now: base + Duration::from_millis(700 * i as u64),
            wall_ms: 1_800_000_000_000 + 700 * i as i64,
            salt: 41 + i as u64,
        };
        effects.extend(update(&mut state, msg, stamp));
        state.settle();
    }
    let mut terminal = Terminal::new(TestBackend::new(size.width, size.height)).unwrap();
    let frame = terminal
        .draw(|f| crate::ui::draw(f, &super::views::build(&state, f.area())))
        .unwrap();
    let screen = frame.buffer.clone();
    (effects, screen, state)
}

#[test]
fn the_same_stamped_messages_give_the_same_state_screen_and_effects() {
    let base = Instant::now();
    let (effects, screen, first) = run(base);
    // Later, on another state: nothing may depend on when it really ran.
    std::thread::sleep(Duration::from_millis(20));
    let (again, screen_again, second) = run(base);
    assert_eq!(effects, again);
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::RunPlan { correlation_id, .. } if !correlation_id.is_empty())
        ),
        "the plan was asked for: {effects:?}"
    );
    assert_eq!(screen, screen_again);
    assert_eq!(first.messages, second.messages);
    assert_eq!(first.status, second.status);
    assert_eq!(first.view, second.view);
    assert_eq!(first.focus, second.focus);
}

#[test]
fn a_message_is_handled_at_its_stamp() {
    let base = Instant::now();
    let (_, _, state) = run(base);
    // The run started at the second message's stamp, its node at the fourth.
    let shown = state.progress.current().expect("the run is shown");
    assert_eq!(shown.started, base + Duration::from_millis(700));
    let row = shown.node("n1").expect("n1 is in the run");
    assert_eq!(row.started, Some(base + Duration::from_millis(2_100)));
    let last = state.messages.back().expect("a notice was shown");
    assert!(last.at_ms >= 1_800_000_000_000, "{last:?}");
}
