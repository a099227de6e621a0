//! Which implementation of a task a node runs, by Bolt's rule: the first one,
//! in the metadata's order, whose `requirements` the target's features satisfy.
//!
//! drover's nodes are reached over SSH or run locally; both offer Bolt's `shell`
//! feature and never `powershell`. `puppet-agent` is offered only where the
//! agent is installed, which drover finds out on the node itself when the
//! command runs (`/opt/puppetlabs/puppet/bin/puppet` is executable): an
//! implementation needing it is run there and, elsewhere, the first one that
//! needs only `shell`. An implementation needing anything else (`powershell`, a
//! `.ps1` file, an unknown feature) is skipped, never run.

use super::task::{Implementation, Task, TaskError};

/// The feature every ssh and local node offers.
pub const SHELL: &str = "shell";
/// The feature of a node with the Puppet agent installed.
pub const PUPPET_AGENT: &str = "puppet-agent";
/// What the node-side check for `puppet-agent` tests for.
pub const PUPPET_AGENT_PROBE: &str = "/opt/puppetlabs/puppet/bin/puppet";

/// The implementations a run may use.
#[derive(Debug, Clone, Copy)]
pub struct Choice<'a> {
    /// Run on nodes where the agent is found (it comes before `shell`).
    pub with_agent: Option<&'a Implementation>,
    /// Run everywhere else; `None` fails those nodes with a clear error.
    pub shell: Option<&'a Implementation>,
}

impl<'a> Choice<'a> {
    pub fn all(&self) -> impl Iterator<Item = &'a Implementation> {
        self.with_agent.into_iter().chain(self.shell)
    }
}

/// The features an implementation needs (a `.ps1` file needs PowerShell even
/// when its metadata does not say so).
fn needs(i: &Implementation) -> Vec<&str> {
    let mut v: Vec<&str> = i.requirements.iter().map(String::as_str).collect();
    if i.script.extension().is_some_and(|e| e == "ps1") && !v.contains(&"powershell") {
        v.push("powershell");
    }
    v
}

pub fn choose(task: &Task) -> Result<Choice<'_>, TaskError> {
    let mut choice = Choice {
        with_agent: None,
        shell: None,
    };
    for i in &task.implementations {
        let needs = needs(i);
        if needs.iter().all(|n| *n == SHELL) {
            choice.shell = Some(i);
            break;
        }
        if choice.with_agent.is_none() && needs.iter().all(|n| [SHELL, PUPPET_AGENT].contains(n)) {
            choice.with_agent = Some(i);
        }
    }
    if choice.shell.is_none() && choice.with_agent.is_none() {
        return Err(TaskError::NoImplementation {
            task: task.name.clone(),
            listed: listed(task),
        });
    }
    Ok(choice)
}

/// `win.ps1 (requires powershell), init.rb (requires puppet-agent)`.
pub fn listed(task: &Task) -> String {
    task.implementations
        .iter()
        .map(|i| {
            let file = i
                .script
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            match needs(i).as_slice() {
                [] => file,
                n => format!("{file} (requires {})", n.join(", ")),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
