//! Command-line definitions. Parsing only: nothing here executes. Global flags are
//! accepted before or after the subcommand.

use crate::engine::common::priority::Priority;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `--version`: the release, the commit it was built from and the build.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("DROVER_BUILD_COMMIT"),
    ", ",
    env!("DROVER_BUILD_TARGET"),
    ", ",
    env!("DROVER_BUILD_PROFILE"),
    " build)"
);

/// Every exit code drover returns, in `--help`.
pub const EXIT_CODES: &str = "Exit codes:
  0    every node succeeded
  1    one or more nodes failed, timed out or were cancelled
  2    usage, validation or set-up error: nothing ran
  3    permission denied (RBAC): nothing ran
  4    no node matched the targets: nothing ran
  5    the engine's queue is full: nothing ran, try again later
  6    a run with the same idempotency key is still queued or running: nothing ran
  129  cancelled by SIGHUP
  130  cancelled by Ctrl-C (SIGINT)
  143  cancelled by SIGTERM
  255  `drover ssh`: the session could not open or broke off
  With `run --max-exit`, the highest remote exit code; `drover ssh` returns the remote one.

Targets (-t): node names, node sets (web[01-03]) and @groups, or Ansible patterns on an
Ansible inventory; `-t ^FILE` reads them from FILE (one per line, # comments), `-t -`
from standard input; without -t, `run` and `task run` read the file named by $WCOLL.";

#[derive(Debug, Parser)]
#[command(
    name = "drover",
    version,
    long_version = LONG_VERSION,
    about = "Run commands across a fleet, watch output live, keep history and per-node journals.",
    long_about = "Without a subcommand drover opens the console (TUI). With --batch or a \
                  subcommand it runs headless.",
    after_long_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Never interactive: no prompts, ever (for scripts and cron).
    #[arg(long, global = true)]
    pub batch: bool,
    /// Where history, journals and logs live [default: $XDG_STATE_HOME/drover].
    #[arg(long, global = true, env = "DROVER_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// An inventory: drover YAML, Ansible INI/YAML (file or directory), Bolt v2, or an
    /// executable printing Ansible `--list` JSON (repeatable; later ones override earlier ones).
    #[arg(short = 'i', long = "inventory", global = true, value_name = "PATH")]
    pub inventory: Vec<PathBuf>,
    /// Configuration file [default: $XDG_CONFIG_HOME/drover/config.toml if present].
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// OpenSSH client config for SSH nodes [default: ~/.ssh/config].
    #[arg(short = 'F', long = "ssh-config", global = true, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// How target expressions are read: `ansible` (Ansible host patterns) or `clush`
    /// (ClusterShell node sets) [default: ansible when an Ansible inventory is loaded,
    /// else clush; config `[inventory] target_grammar`].
    #[arg(long, global = true, value_name = "GRAMMAR", value_parser = ["auto", "ansible", "clush"])]
    pub grammar: Option<String>,
    /// Act as this user (RBAC roles and history); admins only.
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Use the engine of `drover serve` instead of one of this process's own: the
    /// console attaches to it (starting it when none answers), `--batch run`
    /// submits to it (it must be running), so runs outlive the terminal [config
    /// `[engine] detach`, for the console].
    #[arg(long, global = true, conflicts_with = "no_attach")]
    pub attach: bool,
    /// Run the engine in this process even when `[engine] detach` is set.
    #[arg(long, global = true)]
    pub no_attach: bool,
    /// The service's socket [default: `[engine] socket`, else
    /// $XDG_RUNTIME_DIR/drover/drover.sock].
    #[arg(long, global = true, env = "DROVER_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a shell command on the target nodes.
    Run(RunArgs),
    /// The nodes drover knows, and what a target expression selects.
    Inventory(InventoryArgs),
    /// Past executions.
    History(HistoryArgs),
    /// A node's journal, add a note to it, or replay a recorded session.
    Journal(JournalArgs),
    /// Execution counts, success and error rates.
    Metrics(MetricsArgs),
    /// The engine's events as JSON lines, from every drover process on this state dir
    /// (console, batch, cron); `--follow` keeps tailing.
    ///
    /// One object per line, schema version 1 ("v": 1): seq, ts, type, pid, user,
    /// execution, node, then the type's own fields (README, "Event tail"). Without
    /// --since or --after, --follow starts with the next event and a plain listing
    /// with the oldest kept. Ctrl-C, SIGTERM or a closed pipe end --follow with 0.
    Events(EventsArgs),
    /// How the SSH config resolves for a host, printed like `ssh -G`.
    SshConfig(SshConfigArgs),
    /// Bolt tasks on the task path: list, show, run.
    Task(TaskArgs),
    /// Plans: YAML files of steps with dependencies.
    Plan(PlanArgs),
    /// Health of the engine, the store and the transports.
    Status(StatusArgs),
    /// Facts about the target nodes: OS, kernel, CPU, memory, addresses, packages,
    /// inventory variables and configured providers (cached; see --refresh).
    Facts(FactsArgs),
    /// An interactive shell on a node (or one command), through its jump chain.
    ///
    /// The node's ssh_config resolution, jump chain, host key rules and agent
    /// forwarding (ForwardAgent) apply, as for `run`; a pty when standard input is a
    /// terminal. The session's start and end are journaled on the node; with
    /// --record (or `[sessions] record = true`) what it prints is kept as a
    /// transcript (`drover journal replay`).
    ///
    /// Exit status: the remote one (128+N for signal N); 4 unknown node; 255 the
    /// session could not open or broke off.
    Ssh(SshArgs),
    /// Shell completions for bash, zsh, fish, elvish or powershell, on stdout.
    ///
    /// bash: `drover completions bash > ~/.local/share/bash-completion/completions/drover`;
    /// zsh: into a directory on `$fpath` as `_drover`; fish:
    /// `~/.config/fish/completions/drover.fish`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// The manual page (roff) on stdout: `drover man | man -l -`.
    Man,
    /// The store itself: copy a history into a team's PostgreSQL database.
    Store(StoreArgs),
    /// The engine as a service on a Unix socket: runs outlive the console that
    /// started them, and consoles attach to it (README, "Running the engine as a
    /// service").
    ///
    /// Without flags, starts it in the background and returns once it answers.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Stay in the foreground (for systemd, `Type=simple`); logs go to the state
    /// dir's log file as always.
    #[arg(long, conflicts_with = "stop")]
    pub foreground: bool,
    /// Stop the service once its runs have ended.
    #[arg(long)]
    pub stop: bool,
    /// With --stop: cancel the runs first (each is recorded as cancelled).
    #[arg(long, requires = "stop")]
    pub now: bool,
    /// End once no console session and no run is left (how a console starts the
    /// service it attaches to).
    #[arg(long, conflicts_with = "stop")]
    pub exit_when_idle: bool,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copies every run (with its node results and stored output) and journal entry
    /// of one store into another: an operator's own history into the team's
    /// PostgreSQL database.
    ///
    /// Idempotent and resumable: runs the target already has are skipped, journal
    /// entries resume after the last page copied from this source. Prints the
    /// counts; exit 0 when everything is in the target, 1 when a store failed.
    Copy {
        /// The store to read: `sqlite:PATH` (default: this state directory's drover.db).
        #[arg(long, value_name = "STORE")]
        from: Option<String>,
        /// The store to write: `postgres://USER@HOST/DB` (default: `[store] url` or
        /// `$DROVER_STORE_URL`).
        #[arg(long, value_name = "STORE")]
        to: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    /// Target expression (as for `run -t`).
    #[arg(value_name = "TARGETS")]
    pub targets: String,
    /// Ask the providers now, whatever the cache holds.
    #[arg(long)]
    pub refresh: bool,
    /// Only this fact (repeatable).
    #[arg(long = "key", value_name = "KEY")]
    pub keys: Vec<String>,
    /// One JSON object: node -> facts (value and source), failures, collected_at, cached.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SshArgs {
    /// The node, as named in the inventory.
    pub node: String,
    /// Log in as USER, over the inventory and the ssh_config (as `ssh -l`).
    #[arg(short = 'l', long = "user", value_name = "USER")]
    pub login_user: Option<String>,
    /// Record what the session prints as a transcript (`drover journal replay`),
    /// whatever `[sessions] record` says.
    #[arg(long, conflicts_with = "no_record")]
    pub record: bool,
    /// Do not record this session, whatever `[sessions] record` says.
    #[arg(long)]
    pub no_record: bool,
    /// A command to run instead of the login shell, after `--`.
    #[arg(last = true, allow_hyphen_values = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TaskArgs {
    #[command(subcommand)]
    pub command: TaskCommand,
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Every task on the task path, with its description.
    List,
    /// A task's description and parameters, from its metadata.
    Show {
        /// The task, as `module::task` (or `module` for its init task).
        name: String,
    },
    /// Run a task on the target nodes: `drover task run NAME -t TARGETS key=value...`.
    Run(TaskRunArgs),
}

#[derive(Debug, Args)]
pub struct TaskRunArgs {
    /// The task, as `module::task` (or `module` for its init task).
    #[arg(required_unless_present = "rerun")]
    pub name: Option<String>,
    /// Parameters, `key=value` (arrays and hashes as JSON).
    #[arg(value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Target expression (as for `run -t`); `^FILE` reads it from FILE, `-` from stdin;
    /// without -t, the file named by $WCOLL.
    #[arg(short = 't', long = "targets", value_name = "TARGETS")]
    pub targets: Option<String>,
    /// Run a stored task run again (task and parameters from it) on its
    /// `failed`, `unreachable` or `all` nodes; ID is any unique prefix of its id.
    #[arg(long, num_args = 2, value_names = ["SCOPE", "ID"], conflicts_with_all = ["targets", "name", "params"])]
    pub rerun: Option<Vec<String>>,
    /// Ask the task to report what it would change without changing it.
    #[arg(long)]
    pub noop: bool,
    #[command(flatten)]
    pub exec: ExecFlags,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(subcommand)]
    pub command: PlanCommand,
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Check a plan (syntax, steps, tasks, dependencies, cycles) without running it.
    Validate {
        /// The plan file (YAML).
        file: PathBuf,
    },
    /// Run a plan; `-t` replaces the targets of steps that name none.
    Run {
        /// The plan file (YAML).
        file: PathBuf,
        /// Targets for steps that name none (as for `run -t`; `^FILE`, `-`).
        #[arg(short = 't', long = "targets", value_name = "TARGETS")]
        targets: Option<String>,
        /// One JSON object per plan event instead of text.
        #[arg(long)]
        json: bool,
        /// Queue priority of steps that set none: low, normal, high or 0-9.
        #[arg(long, value_name = "PRIORITY")]
        priority: Option<Priority>,
    },
}

#[derive(Debug, Args)]
pub struct SshConfigArgs {
    /// Remote user, overriding the config (as `ssh -l`).
    #[arg(short = 'l', value_name = "USER")]
    pub user: Option<String>,
    /// Port, overriding the config (as `ssh -p`).
    #[arg(short = 'p', value_name = "PORT")]
    pub port: Option<u16>,
    /// The destination as it would be given to ssh: a host name or alias,
    /// `user@host` or `ssh://[user@]host[:port]`.
    pub host: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// `node: line` as lines arrive; stdout to stdout, stderr to stderr (pdsh style).
    Lines,
    /// At the end, identical outputs folded under a node set (dshbak -c / clush -b).
    Grouped,
    /// One JSON object per event, newline-delimited.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackoffArg {
    /// retry_delay × attempt.
    Linear,
    /// retry_delay × 2^(attempt-1).
    Exponential,
}

/// How a run runs: the flags `run` and `task run` share.
#[derive(Debug, Args)]
pub struct ExecFlags {
    /// Log in to SSH nodes as USER, over the inventory and the ssh_config (as
    /// `ssh -l`, `pdsh -l`); local nodes cannot take it.
    #[arg(
        short = 'l',
        long = "user",
        value_name = "USER",
        conflicts_with = "rerun"
    )]
    pub login_user: Option<String>,
    /// Most nodes running at once [default: from config, else 64].
    #[arg(short = 'f', long)]
    pub fanout: Option<usize>,
    /// Per-node time limit, e.g. 30s, 1m30s, 500ms.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Run nodes one at a time, in target order.
    #[arg(long)]
    pub sequential: bool,
    /// Extra attempts after a connection failure or timeout.
    #[arg(long)]
    pub retries: Option<u32>,
    /// Keep full output in history instead of a head/tail summary.
    #[arg(long)]
    pub debug: bool,
    /// Place in the queue when slots are short: low, normal, high or 0-9.
    #[arg(long, value_name = "PRIORITY")]
    pub priority: Option<Priority>,
    /// Run once per key: while a run with this key is queued or running, or
    /// finished within [execution] idempotency_window, answer with it instead.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// How results are printed.
    #[arg(short = 'o', long = "output", value_enum, default_value = "lines")]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Target expression: node names, node sets (web[01-03]) and @groups, comma
    /// separated; `^FILE` reads it from FILE, `-` from stdin; without -t, the file
    /// named by $WCOLL.
    #[arg(short = 't', long = "targets", value_name = "TARGETS")]
    pub targets: Option<String>,
    /// Run a stored run's command again on its `failed` (every node that did not
    /// succeed), `unreachable` or `all` nodes; ID is any unique prefix of its id.
    /// Takes the command and targets from the stored run: no -t, no command.
    #[arg(long, num_args = 2, value_names = ["SCOPE", "ID"], conflicts_with_all = ["targets", "command"])]
    pub rerun: Option<Vec<String>>,
    #[command(flatten)]
    pub exec: ExecFlags,
    /// Environment variable for the command (repeatable).
    #[arg(short = 'e', long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Secret environment variable: passed to the command, its value redacted
    /// wherever drover writes. `K` alone takes the value from drover's environment.
    #[arg(long = "secret-env", value_name = "K[=V]")]
    pub secret_env: Vec<String>,
    /// How the delay between attempts grows [default: from config].
    #[arg(long, value_enum)]
    pub backoff: Option<BackoffArg>,
    /// Exit with the highest remote exit code instead of 0/1 (clush -S).
    #[arg(long)]
    pub max_exit: bool,
    /// The command, after `--`.
    #[arg(
        required_unless_present = "rerun",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub show: Option<HistoryCommand>,
    /// Only executions started at or after this time (RFC 3339, or a duration ago: 2h).
    #[arg(long)]
    pub since: Option<String>,
    /// Only executions started at or before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Only executions started by this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Only executions that targeted this node.
    #[arg(long)]
    pub target: Option<String>,
    /// success, failed, partial, timeout, cancelled, interrupted, running.
    #[arg(long)]
    pub status: Option<String>,
    /// At most this many executions, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON object per execution.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// One execution with its node results (ID or a unique prefix).
    Show {
        /// The execution's id or a unique prefix of it.
        id: String,
        /// Print each node's stored output (as `-o lines` unless `-o` says otherwise).
        #[arg(long)]
        output: bool,
        /// The output's format, as `drover run -o` prints it (implies --output).
        #[arg(short = 'o', long = "format", value_enum, conflicts_with = "json")]
        format: Option<OutputFormat>,
        /// The execution and its node results as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct JournalArgs {
    #[command(subcommand)]
    pub add: Option<JournalCommand>,
    /// The node whose journal to show.
    pub node: Option<String>,
    /// execution, task, package, provisioning, event or manual (repeatable).
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// At most this many entries, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON object per entry.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Write a manual note into a node's journal.
    Add {
        /// The node the note is about.
        node: String,
        /// The note.
        #[arg(short = 'm', long = "message")]
        message: String,
    },
    /// Play a session's transcript on standard output, with its timing.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The transcript: its id, or the id of a journal entry of the session
    /// (`drover journal NODE --json` shows both).
    pub entry: String,
    /// Play this many times as fast (2: twice as fast).
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    pub speed: f64,
    /// Never wait longer than this between two outputs (e.g. 2s).
    #[arg(long, value_name = "DURATION")]
    pub max_wait: Option<String>,
    /// Everything at once, without the timing (and without the header line).
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Keep printing events as they are recorded (until Ctrl-C, SIGTERM or a closed pipe).
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only events recorded at or after this time (RFC 3339, or a duration ago: 10m).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events after this sequence number (the `seq` of the last line seen): resume
    /// where a reader stopped, without a gap or a repeat.
    #[arg(long, value_name = "SEQ")]
    pub after: Option<i64>,
    /// Only these event types (comma list or repeated): execution_queued,
    /// execution_started, node_started, node_output, retry_attempt, node_finished,
    /// execution_finished, journal_appended, breaker_opened, breaker_half_open,
    /// breaker_closed, plan_step_changed, plan_finished, inventory_reloaded.
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Only events about these nodes, and events of runs that target one of them.
    #[arg(short = 't', long = "targets", value_name = "TARGETS")]
    pub targets: Option<String>,
    /// At most this many events (a plain listing; --follow ignores it).
    #[arg(long)]
    pub limit: Option<usize>,
    /// JSON lines (the only format; accepted for scripts that say so).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// From this time (RFC 3339, or a duration ago: 7d).
    #[arg(long)]
    pub since: Option<String>,
    /// Up to this time.
    #[arg(long)]
    pub until: Option<String>,
    /// The metrics as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    #[command(subcommand)]
    pub command: InventoryCommand,
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// The nodes a target expression selects (default: all).
    List {
        /// Target expression (as for `run -t`; `^FILE`, `-`).
        #[arg(short = 't', long = "targets", value_name = "TARGETS")]
        targets: Option<String>,
        /// How nodes are printed.
        #[arg(long, value_enum, default_value = "names")]
        format: InventoryFormat,
    },
    /// Groups and their members as a tree (like `ansible-inventory --graph`).
    Graph,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InventoryFormat {
    /// One node name per line, sorted.
    Names,
    /// Nodes with transport, address, groups, vars and source.
    Json,
    /// Exactly what `ansible-inventory --list` prints, for the Ansible `-i` inputs.
    AnsibleJson,
}
