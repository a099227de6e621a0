//! The checks before a run is submitted: a run on many nodes, or a command
//! matching the danger list, is confirmed first. Shared by the `!` prompt,
//! `:run` and re-runs.

use super::msg::Effect;
use super::overlay::Overlay;
use super::state::AppState;
use crate::engine::submit::label::RerunOf;

/// Submits at once, or asks first when the run is big or the command matches
/// the danger list.
pub fn request_run(
    state: &mut AppState,
    command: &str,
    targets: &str,
    count: usize,
    rerun: Option<RerunOf>,
) -> Vec<Effect> {
    let command = command.trim();
    if command.is_empty() {
        return Vec::new();
    }
    if state.recall.last().map(String::as_str) != Some(command) {
        state.recall.push(command.to_string());
    }
    let mut reasons = Vec::new();
    if count > state.options.confirm_above {
        reasons.push(format!(
            "{count} nodes (more than {})",
            state.options.confirm_above
        ));
    }
    if let Some(d) = state
        .options
        .danger
        .iter()
        .find(|d| command.contains(d.as_str()))
    {
        reasons.push(format!("the command contains {d:?}"));
    }
    if reasons.is_empty() {
        return vec![Effect::Submit {
            command: command.to_string(),
            targets: targets.to_string(),
            rerun,
        }];
    }
    state.overlays.push(Overlay::Confirm {
        command: command.to_string(),
        targets: targets.to_string(),
        count,
        reasons,
        rerun,
    });
    Vec::new()
}
