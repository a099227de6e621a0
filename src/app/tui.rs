//! The console front end. It owns the terminal: raw mode and the alternate screen
//! are restored on exit, on panic (ratatui's hook) and on SIGTERM.

use crate::app::exit;
use crate::app::setup::Runtime;
use crate::ui::placeholder::{WelcomeView, draw};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub async fn run(rt: &Runtime) -> u8 {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "drover: the console needs a terminal; use a subcommand (drover run ...) for headless use"
        );
        return exit::USAGE;
    }
    let view = WelcomeView {
        nodes: rt
            .engine
            .inventory()
            .nodes()
            .map(|n| n.name.clone())
            .collect(),
        state_dir: rt.state_dir.display().to_string(),
    };
    let terminated = Arc::new(AtomicBool::new(false));
    let flag = terminated.clone();
    tokio::spawn(async move {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
            flag.store(true, Ordering::SeqCst);
        }
    });
    let outcome = tokio::task::spawn_blocking(move || console_loop(&view, &terminated)).await;
    match outcome {
        Ok(Ok(())) => exit::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("drover: terminal: {e}");
            exit::FAILED
        }
        Err(e) => {
            eprintln!("drover: console crashed: {e}");
            exit::FAILED
        }
    }
}

fn console_loop(view: &WelcomeView, terminated: &AtomicBool) -> std::io::Result<()> {
    // ratatui::init enters raw mode and the alternate screen and installs a panic
    // hook that restores the terminal before the previous hook prints.
    let mut terminal = ratatui::init();
    let result = (|| {
        terminal.draw(|f| draw(f, view))?;
        while !terminated.load(Ordering::SeqCst) {
            if !event::poll(Duration::from_millis(200))? {
                continue;
            }
            match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    let ctrl_c =
                        k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
                    if k.code == KeyCode::Char('q') || k.code == KeyCode::Esc || ctrl_c {
                        break;
                    }
                }
                Event::Resize(..) => {
                    terminal.draw(|f| draw(f, view))?;
                }
                _ => {}
            }
        }
        Ok(())
    })();
    ratatui::restore();
    result
}
