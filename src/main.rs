//! drover's entry point: parse flags, prepare state and logging, start the engine,
//! hand over to the console or the batch runner, and return a documented exit code.

use clap::Parser;
use drover::app::stop_signals;
use drover::app::{self, exit, setup};
use drover::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Some(code) = app::docs::print(&cli) {
        return ExitCode::from(code);
    }
    let wcoll = std::env::var("WCOLL").ok();
    if let Err(e) = app::target_args::expand(&mut cli, wcoll.as_deref()) {
        eprintln!("drover: {e}");
        return ExitCode::from(exit::USAGE);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drover: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    let code = runtime.block_on(run(cli));
    if stop_signals::abandoned() {
        // A run was left behind on purpose: dropping the runtime would wait for it.
        std::process::exit(i32::from(code));
    }
    ExitCode::from(code)
}

async fn run(cli: Cli) -> u8 {
    let state_dir = match setup::state_dir(&cli.global).and_then(|d| {
        setup::prepare_state_dir(&d)?;
        Ok(d)
    }) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("drover: {e:#}");
            return exit::USAGE;
        }
    };
    let config = match setup::load_config(&cli.global) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("drover: {e:#}");
            return exit::USAGE;
        }
    };
    let _log_guard = match setup::init_logging(&state_dir, &config.logging) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("drover: {e:#}");
            return exit::USAGE;
        }
    };
    if cli.global.attach && cli.global.as_user.is_some() {
        // The service names its caller by the socket's peer credentials.
        eprintln!(
            "drover: --as cannot be used with --attach: the service knows you by your account (run with --no-attach to act as another user)"
        );
        return exit::USAGE;
    }
    let Some(command) = &cli.command else {
        if cli.global.batch {
            eprintln!(
                "drover: --batch needs a subcommand (run, task, plan, history, journal, metrics, events, ssh-config, status)"
            );
            return exit::USAGE;
        }
        // `--as` is checked by an engine of this process's own.
        let attach = cli.global.attach
            || (config.engine.detach && !cli.global.no_attach && cli.global.as_user.is_none());
        if attach {
            return app::attach::console::attach(&cli.global, &config, &state_dir).await;
        }
        return app::tui::launch(&cli.global, config, state_dir).await;
    };
    if let drover::cli::Command::Serve(args) = command {
        if args.foreground {
            return app::service::server::serve(args, &cli.global, config, state_dir).await;
        }
        return app::attach::start::serve(args, &cli.global, &config, &state_dir).await;
    }
    if cli.global.attach {
        // The service's engine runs it: none starts here.
        return app::attach::batch::dispatch(command, &cli.global, &config, &state_dir).await;
    }
    if let drover::cli::Command::Store(args) = command {
        return app::store_admin::store(args, &config, &state_dir);
    }
    let started = match command {
        drover::cli::Command::Status(_) => setup::start_for_status(&cli.global, config, state_dir),
        _ => setup::start(&cli.global, config, state_dir),
    };
    let mut rt = match started {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("start-up failed: {e:#}");
            eprintln!("drover: {e:#}");
            return exit::USAGE;
        }
    };
    if let Err(e) = setup::act_as(&cli.global, &mut rt).await {
        eprintln!("drover: --as: {e}");
        setup::finish(rt).await;
        return app::batch::run::exit_code_for(&e);
    }
    if let Some((user, targets)) = app::login_user::wanted(command)
        && let Err(e) = app::login_user::apply(&rt.engine, user, targets)
    {
        eprintln!("drover: {e}");
        setup::finish(rt).await;
        return exit::USAGE;
    }
    let code = app::batch::dispatch(command, &cli.global, &rt).await;
    if !stop_signals::abandoned() {
        setup::finish(rt).await;
    }
    code
}
