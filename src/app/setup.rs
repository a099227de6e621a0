//! Start-up shared by both front ends: state directory, logging, config, store,
//! inventory and engine. Errors here happen before anything runs.

use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::engine::common::duration::parse_duration;
use crate::engine::common::request::{ExecutionContext, local_user_name, trust_os_account_only};
use crate::engine::facts::Facts;
use crate::engine::inventory::service::{InventoryService, InventorySource, standard_sources};
use crate::engine::inventory::targets::Grammar;
use crate::engine::rbac::{AllowAll, Authorizer, Capability};
use crate::engine::transport::exec::ExecTransport;
use crate::engine::transport::interaction::{Interaction, NoInteraction};
use crate::engine::transport::local::{LocalConfig, LocalTransport};
use crate::engine::transport::ssh::config::Environment;
use crate::engine::transport::ssh::config_source::SshConfigSource;
use crate::engine::transport::ssh::{SshSettings, SshTransport};
use crate::engine::transport::{TransportRegistry, Unavailable};
use crate::engine::{Engine, EngineConfig, EngineError, Inventory};
use crate::store::{Store, StoreError, StoreLocation, process_is_alive};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything a front end needs, built once: the config, the engine (which
/// owns the store, the inventory's sources and the fact providers; every read
/// of history goes through it, under RBAC) and who is asking.
pub struct Runtime {
    pub config: Config,
    pub engine: Engine,
    /// Who is asking: the local user (by OS account when RBAC is on), or `--as`.
    pub context: ExecutionContext,
}

/// The state dir: flag, then `DROVER_STATE_DIR` (via clap), then XDG state dir.
pub fn state_dir(global: &GlobalArgs) -> Result<PathBuf> {
    if let Some(d) = &global.state_dir {
        return Ok(d.clone());
    }
    let dirs = directories::ProjectDirs::from("", "", "drover")
        .context("cannot find a home directory for the default state dir; pass --state-dir")?;
    Ok(dirs
        .state_dir()
        .unwrap_or_else(|| dirs.data_local_dir())
        .to_path_buf())
}

/// Creates the state dir and proves it is writable, so a bad one fails before
/// anything runs rather than after a fleet-wide command.
pub fn prepare_state_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("state dir {}: cannot create it", dir.display()))?;
    let probe = dir.join(".drover-write-test");
    std::fs::write(&probe, b"ok")
        .with_context(|| format!("state dir {}: not writable", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

pub fn load_config(global: &GlobalArgs) -> Result<Config> {
    if let Some(p) = &global.config {
        return Ok(Config::load(p)?);
    }
    let default = directories::ProjectDirs::from("", "", "drover")
        .map(|d| d.config_dir().join("config.toml"));
    match default {
        Some(p) if p.is_file() => Ok(Config::load(&p)?),
        _ => Ok(Config::default()),
    }
}

/// Log lines that may wait for the log thread.
const LOG_QUEUE_LINES: usize = 8_192;

/// Logs go to a daily-rolling file in the state dir, never to the terminal.
/// Files older than `[logging] retention` days are deleted as the log rolls over.
pub fn init_logging(
    state_dir: &Path,
    logging: &crate::config::LoggingConfig,
) -> Result<tracing_appender::non_blocking::WorkerGuard> {
    let level = logging.level.as_str();
    let logs = state_dir.join("logs");
    std::fs::create_dir_all(&logs)
        .with_context(|| format!("log dir {}: cannot create it", logs.display()))?;
    let mut builder = tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("drover.log");
    if let Some(n) = logging.files_kept() {
        builder = builder.max_log_files(n);
    }
    let appender = builder
        .build(&logs)
        .with_context(|| format!("log dir {}: cannot open the log file", logs.display()))?;
    // The queue to the log thread is an array the size of its line limit, all of it
    // touched up front: the default 128,000 lines held 4 MiB of every drover's
    // memory. Lines past the limit are dropped (the appender's lossy default), so
    // a log flood never stalls a run.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("DROVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Ok(guard)
}

/// The inventory sources of `-i` and the ssh_config, not read yet. A source
/// that fails when read is marked failed (see [`Engine::inventory_failures`]);
/// the others still load.
pub fn inventory_service(global: &GlobalArgs, config: &Config) -> Result<Arc<InventoryService>> {
    let ssh_source = Environment::from_process().ok().map(|env| {
        let path = global
            .ssh_config
            .clone()
            .unwrap_or_else(|| env.home.join(".ssh/config"));
        Arc::new(SshConfigSource::new(path, env)) as Arc<dyn InventorySource>
    });
    let timeout = config
        .inventory
        .script_timeout()
        .map_err(|r| anyhow::anyhow!("inventory.script_timeout: {r}"))?;
    let grammar = global
        .grammar
        .as_deref()
        .unwrap_or(&config.inventory.target_grammar);
    let grammar = Grammar::parse_choice(grammar)
        .map_err(|r| anyhow::anyhow!("inventory.target_grammar: {r}"))?;
    Ok(Arc::new(
        InventoryService::new(
            standard_sources(ssh_source, &global.inventory, timeout),
            config.inventory.ttl(),
        )
        .with_grammar(grammar),
    ))
}

/// Opens the store, marks runs a crash left behind as interrupted, and starts the
/// engine with the transports drover has and the inventory loaded. Nothing can
/// be asked of a person (batch).
pub fn start(global: &GlobalArgs, config: Config, state_dir: PathBuf) -> Result<Runtime> {
    start_with(
        global,
        config,
        state_dir,
        Arc::new(NoInteraction),
        true,
        false,
    )
}

/// For `drover status`, which matters most when the store is down: as
/// [`start`], but a PostgreSQL server that cannot be reached does not end
/// start-up; the health report names the store as failing, with the reason.
pub fn start_for_status(
    global: &GlobalArgs,
    config: Config,
    state_dir: PathBuf,
) -> Result<Runtime> {
    start_with(
        global,
        config,
        state_dir,
        Arc::new(NoInteraction),
        true,
        true,
    )
}

/// For the console: starts with an empty inventory (the console loads it in the
/// background from `Engine::inventory_service`, after its first frame) and asks the
/// operator through `interaction`.
pub fn start_console(
    global: &GlobalArgs,
    config: Config,
    state_dir: PathBuf,
    interaction: Arc<dyn Interaction>,
) -> Result<Runtime> {
    start_with(global, config, state_dir, interaction, false, false)
}

/// For `drover serve`: the inventory loaded now (consoles attach to it later),
/// and questions put through `interaction` to an attached console.
pub fn start_service(
    global: &GlobalArgs,
    config: Config,
    state_dir: PathBuf,
    interaction: Arc<dyn Interaction>,
) -> Result<Runtime> {
    start_with(global, config, state_dir, interaction, true, false)
}

/// The user's keymap: `keymap.toml` beside the config file.
pub fn keymap_path(global: &GlobalArgs) -> Option<PathBuf> {
    match &global.config {
        Some(c) => Some(c.with_file_name("keymap.toml")),
        None => directories::ProjectDirs::from("", "", "drover")
            .map(|d| d.config_dir().join("keymap.toml")),
    }
}

/// Cancels what still runs, closes transports, flushes and closes the store.
pub async fn finish(rt: Runtime) {
    if let Err(e) = rt.engine.shutdown().await {
        eprintln!("drover: shutting down: {e}");
    }
    if let Err(e) = rt.engine.close_store().await {
        eprintln!("drover: closing history: {e}");
    }
}

fn start_with(
    global: &GlobalArgs,
    config: Config,
    state_dir: PathBuf,
    interaction: Arc<dyn Interaction>,
    load_inventory: bool,
    store_may_be_down: bool,
) -> Result<Runtime> {
    let inventory = inventory_service(global, &config)?;
    if load_inventory {
        inventory.refresh();
    }
    let store = match open_store(&config, &state_dir) {
        Ok(store) => Ok(store),
        Err(e)
            if store_may_be_down
                && matches!(e.downcast_ref(), Some(StoreError::PgConnect { .. })) =>
        {
            tracing::warn!(error = %e, "store unreachable; started without it");
            Err(e.to_string())
        }
        Err(e) => return Err(e),
    };
    let mut transports = TransportRegistry::default();
    let local = LocalTransport::new(LocalConfig {
        kill_grace: config.kill_grace(),
        ..LocalConfig::default()
    })?;
    transports.register(Arc::new(local));
    transports.register(Arc::new(ExecTransport::new(config.kill_grace())?));
    let ssh = ssh_transport(global, &config, interaction);
    transports.register(match ssh {
        Ok(t) => Arc::new(t),
        Err(reason) => {
            tracing::warn!("ssh transport unavailable: {reason}");
            Arc::new(Unavailable {
                name: "ssh".into(),
                reason,
            })
        }
    });
    let journal_rules = config.journal.rules();
    let engine_config = EngineConfig {
        max_concurrency: config.execution.max_concurrency,
        queue_depth: config.execution.queue_depth,
        idempotency_window: config.idempotency_window(),
        queue_aging: parse_duration(&config.execution.queue_aging)
            .unwrap_or(EngineConfig::default().queue_aging),
        ring_capacity: config.output.ring_bytes,
        output_budget: config.output.run_budget_bytes,
        summary_lines: config.output.summary_lines,
        retry_on: config.retry.on.clone(),
        retry_jitter: config.retry.jitter,
        breakers: config.breakers.to_config().unwrap_or_default(),
        secret_patterns: config.secrets.patterns.clone(),
        journal: journal_rules.0,
        journal_by_transport: journal_rules.1,
        ..EngineConfig::default()
    };
    let authorizer: Arc<dyn Authorizer> = match &config.rbac {
        Some(rbac) => Arc::new(
            rbac.policy()
                .map_err(|e| anyhow::anyhow!("config: [{}] {}: {}", e.section, e.key, e.reason))?,
        ),
        None => Arc::new(AllowAll),
    };
    if config.rbac.is_some() {
        // Every front end then names the user by OS account, never by `$USER`.
        trust_os_account_only();
    }
    let user = local_user_name();
    let nodes = if load_inventory {
        Inventory::clone(&inventory.get())
    } else {
        Inventory::default()
    };
    let facts = Arc::new(Facts::from_config(&config.facts, store.clone().ok()));
    let writer = store.as_ref().ok().map(Store::writer);
    let engine = Engine::new(engine_config, nodes, transports, writer)
        .with_authorizer(authorizer)
        .with_facts(facts)
        .with_inventory_service(inventory.clone());
    let engine = match store {
        Ok(store) => engine.with_store(store),
        Err(reason) => engine.with_store_unreachable(reason),
    };
    if load_inventory {
        engine.set_inventory_failures(inventory.failures());
    }
    let context = ExecutionContext {
        roles: engine.roles_of(&user),
        user,
        ..ExecutionContext::local()
    };
    Ok(Runtime {
        config,
        engine,
        context,
    })
}

/// Opens the configured store and tidies it: runs a crash left behind marked
/// interrupted, retention applied, the event log bounded.
fn open_store(config: &Config, state_dir: &Path) -> Result<Store> {
    let location = StoreLocation::configured(config.store.url().as_deref(), state_dir)?;
    let store = Store::open_location(&location, true)?;
    let recovered = store.recover_interrupted(process_is_alive)?;
    if !recovered.is_empty() {
        tracing::warn!(
            ?recovered,
            "executions left running by a crash marked interrupted"
        );
    }
    if let Some(keep) = config.journal.retention() {
        let cutoff = crate::engine::common::ids::now_millis() - keep.as_millis() as i64;
        let pruned = store.prune(cutoff)?;
        tracing::info!(?pruned, "history and journal retention applied");
    }
    let trimmed = store.trim_events(crate::store::EVENT_LOG_KEEP)?;
    if trimmed > 0 {
        tracing::info!(
            trimmed,
            "oldest events beyond the event log's bound removed"
        );
    }
    Ok(store)
}

/// Applies `--as USER`: only an admin may act as someone else; the refusal is
/// audited like any other.
pub async fn act_as(global: &GlobalArgs, rt: &mut Runtime) -> Result<(), EngineError> {
    let Some(user) = &global.as_user else {
        return Ok(());
    };
    if *user == rt.context.user {
        return Ok(());
    }
    rt.engine
        .authorize(&rt.context, &Capability::Admin, &[])
        .await?;
    tracing::info!(real_user = %rt.context.user, as_user = %user, "acting as another user");
    rt.context.roles = rt.engine.roles_of(user);
    rt.context.user = user.clone();
    Ok(())
}

/// The SSH transport from `-F FILE` or `~/.ssh/config`; `Err` names file:line when
/// the config is invalid (SSH nodes then fail with that reason; the rest runs).
fn ssh_transport(
    global: &GlobalArgs,
    config: &Config,
    interaction: Arc<dyn Interaction>,
) -> Result<SshTransport, String> {
    let environment = Environment::from_process().map_err(|e| e.to_string())?;
    SshTransport::new(SshSettings {
        config_file: global.ssh_config.clone(),
        environment,
        kill_grace: config.kill_grace(),
        idle_timeout: std::time::Duration::from_secs(60),
        interaction,
    })
    .map_err(|e| e.reason)
}

/// Starts the automatic inventory reload for a front end that stays open (the
/// console): file changes and TTL expiry swap the engine's inventory and emit
/// `EngineEvent::InventoryReloaded`. Dropping the guard stops it.
pub fn watch_inventory(rt: &Runtime) -> Result<crate::engine::inventory::watch::InventoryWatch> {
    let service = rt
        .engine
        .inventory_service()
        .context("the engine was started without inventory sources")?;
    Ok(crate::engine::inventory::watch::watch(
        rt.engine.clone(),
        service,
        rt.config.inventory.watch_debounce(),
    )?)
}

/// Run options from the config's `[execution]` section: the one place they are
/// built. Front ends lay their flags over them (`batch::run::flag_options`), and
/// a plan's steps override mode, retries and timeout with their own.
pub fn run_defaults(config: &Config) -> crate::engine::ExecutionOptions {
    crate::engine::ExecutionOptions {
        timeout: config.timeout().unwrap_or(None),
        fanout: config.execution.fanout,
        mode: crate::engine::Mode::Parallel,
        retries: config.execution.retries,
        backoff: if config.execution.backoff == "linear" {
            crate::engine::Backoff::Linear
        } else {
            crate::engine::Backoff::Exponential
        },
        retry_delay: config.retry_delay(),
        ..crate::engine::ExecutionOptions::default()
    }
}
