//! What a key can mean. Keys map to actions through the keymap (data, in
//! `assets/keymap.toml`); panes, prompts and popups only ever see actions
//! (and, for text fields, the keys no action is bound to), so bindings can
//! change without touching them.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    Suspend,
    /// `:` — command mode (`:run CMD`, `:plan FILE`, `:history`, `:q`...).
    CommandMode,
    /// `!` — type an ad hoc command for the selected nodes.
    RunPrompt,
    FocusNext,
    FocusPrev,
    ShowOutput,
    ShowProgress,
    ShowHistory,
    ShowJournal,
    ShowFacts,
    CancelExecution,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Left,
    Right,
    /// Enter: open the thing under the cursor.
    Open,
    Back,
    ToggleSelect,
    SelectAll,
    ClearSelection,
    ExpandAll,
    CollapseAll,
    Filter,
    ToggleFold,
    ToggleFollow,
    ToggleStderr,
    NextNode,
    PrevNode,
    Search,
    SearchNext,
    SearchPrev,
    Diff,
    /// `w` — write the output view to a file.
    WriteOutput,
    /// History: the entry's command on the prompt, to edit before it runs.
    Rerun,
    /// The shown run again on the nodes that did not succeed.
    RerunFailed,
    NewNote,
    CycleType,
    Refresh,
    Shell,
    /// Progress pane: the plan's steps or the shown run's nodes.
    TogglePlan,
    /// Output pane: wrap long lines instead of scrolling sideways.
    ToggleWrap,
    /// The status line's message in full.
    ShowMessage,
    /// Every notice and error of the session (`:messages`).
    Messages,
    /// Prompts: run or accept what was typed.
    Submit,
    /// The note editor: keep the note.
    Save,
    /// Confirmations: go ahead.
    Yes,
    /// Confirmations: do not.
    No,
    /// An unknown host key: trust it for this connection only.
    AcceptOnce,
    /// An unknown host key: trust it and add it to known_hosts.
    AcceptAndSave,
    /// An unknown host key: refuse the connection.
    Reject,
}

impl Action {
    /// One line for the help overlay.
    pub fn describe(self) -> &'static str {
        use Action::*;
        match self {
            Quit => "quit drover (asks first while something runs)",
            Help => "show or hide this help",
            Suspend => "suspend to the shell (fg to come back)",
            CommandMode => "command mode (:run CMD, :plan FILE, :history, :q...)",
            RunPrompt => "run a command on the selected nodes",
            FocusNext => "focus the next pane",
            FocusPrev => "focus the previous pane",
            ShowOutput => "show live output",
            ShowProgress => "show per-node progress",
            ShowHistory => "show history (type to search)",
            ShowJournal => "show the journal of the node under the cursor",
            ShowFacts => "show the facts of the node under the cursor",
            CancelExecution => "cancel the newest run (in the plan view: the plan)",
            Up => "move up",
            Down => "move down",
            PageUp => "page up",
            PageDown => "page down",
            Top => "go to the top",
            Bottom => "go to the bottom",
            Left => "collapse / scroll left",
            Right => "expand / scroll right",
            Open => "open the item under the cursor",
            Back => "close, go back",
            ToggleSelect => "select or unselect (a group selects all its nodes)",
            SelectAll => "select every node shown",
            ClearSelection => "clear the selection",
            ExpandAll => "expand every group",
            CollapseAll => "collapse every group",
            Filter => "filter with a target expression",
            ToggleFold => "fold identical outputs / show per node",
            ToggleFollow => "follow new output",
            ToggleStderr => "show or hide stderr",
            NextNode => "jump to the next node or group",
            PrevNode => "jump to the previous node or group",
            Search => "search the output",
            SearchNext => "next match",
            SearchPrev => "previous match",
            Diff => "diff the node under the cursor against the largest group",
            WriteOutput => "write the output as shown to a file (:write FILE, :write --json FILE)",
            Rerun => "put this entry's command on the prompt to edit",
            RerunFailed => "re-run the shown run on the nodes that did not succeed",
            NewNote => "write a journal note",
            CycleType => "cycle the journal entry type filter",
            Refresh => "refresh",
            Shell => "open a shell on the node under the cursor",
            TogglePlan => "show the plan's steps / the run's nodes",
            ToggleWrap => "wrap long lines / scroll sideways (h, l)",
            ShowMessage => "open the status line's message in full",
            Messages => "this session's notices and errors, with times",
            Submit => "run or accept what was typed",
            Save => "save the note",
            Yes => "yes, go ahead",
            No => "no, leave it",
            AcceptOnce => "trust the host key for this connection only",
            AcceptAndSave => "trust the host key and save it to known_hosts",
            Reject => "refuse the host key (no connection)",
        }
    }

    /// A word or two for the key hints in the bottom bar.
    pub fn hint(self) -> &'static str {
        use Action::*;
        match self {
            Quit => "quit",
            Help => "help",
            Suspend => "suspend",
            CommandMode => "command",
            RunPrompt => "run",
            FocusNext | FocusPrev => "pane",
            ShowOutput => "output",
            ShowProgress => "progress",
            ShowHistory => "history",
            ShowJournal => "journal",
            ShowFacts => "facts",
            CancelExecution => "cancel",
            Up | Down => "move",
            PageUp | PageDown => "page",
            Top => "top",
            Bottom => "bottom",
            Left | Right => "sideways",
            Open => "open",
            Back => "back",
            ToggleSelect => "select",
            SelectAll => "all",
            ClearSelection => "none",
            ExpandAll => "expand",
            CollapseAll => "collapse",
            Filter => "filter",
            ToggleFold => "fold",
            ToggleFollow => "follow",
            ToggleStderr => "stderr",
            NextNode | PrevNode => "node",
            Search => "search",
            SearchNext => "next",
            SearchPrev => "prev",
            Diff => "diff",
            WriteOutput => "write",
            Rerun => "edit",
            RerunFailed => "re-run failed",
            NewNote => "note",
            CycleType => "type",
            Refresh => "refresh",
            Shell => "shell",
            TogglePlan => "plan",
            ToggleWrap => "wrap",
            ShowMessage => "message",
            Messages => "messages",
            Submit => "submit",
            Save => "save",
            Yes => "yes",
            No => "no",
            AcceptOnce => "once",
            AcceptAndSave => "save",
            Reject => "reject",
        }
    }
}
