//! `w` and `:write [--json] FILE` / `:write! FILE`: the output view saved to a
//! file. The text is the pane's lines as drawn (folded blocks under their node
//! set and status, or `node: line` per node), without colours or borders; the
//! JSON is one object per node. The file is written by the effect runner.

use super::msg::Effect;
use super::output::OutputView;
use super::state::AppState;
use crate::engine::common::ids::short_id;
use crate::ui::output_text;
use crate::ui::sgr;
use std::path::PathBuf;

/// What `:write` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRequest {
    pub path: PathBuf,
    pub json: bool,
    /// `:write!`: an existing file is replaced.
    pub overwrite: bool,
}

/// The name `w` offers: `drover-<shortid>.txt`, in the directory drover
/// started in (relative paths resolve there).
pub fn default_name(view: &OutputView) -> Option<String> {
    let run = view.run.as_ref()?;
    Some(format!("drover-{}.txt", short_id(&run.id)))
}

/// Parses the words after `:write` / `:write!`.
pub fn parse(args: &str, overwrite: bool) -> Result<WriteRequest, String> {
    let mut json = false;
    let mut path = None;
    for word in args.split_whitespace() {
        match word {
            "--json" => json = true,
            flag if flag.starts_with("--") => {
                return Err(format!(":write: unknown flag {flag} (only --json)"));
            }
            file if path.is_none() => path = Some(file),
            _ => return Err(":write takes one file name (no spaces)".into()),
        }
    }
    let path = path.ok_or(":write needs a file name, e.g. :write out.txt")?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    Ok(WriteRequest {
        path: super::plan_actions::expand_home(path, home),
        json,
        overwrite,
    })
}

/// `:write` on the current output view: the effect that writes it, or an
/// error on the status line.
pub fn write_command(state: &mut AppState, args: &str, overwrite: bool) -> Vec<Effect> {
    let request = match parse(args, overwrite) {
        Ok(r) => r,
        Err(e) => {
            state.error(e);
            return Vec::new();
        }
    };
    let view = &mut state.output;
    if view.run.is_none() {
        state.error("no output to write yet: run a command first");
        return Vec::new();
    }
    // The file holds the view as it is now, even between two settles.
    view.mark_dirty();
    view.settle();
    let (contents, lines) = if request.json {
        json_lines(view)
    } else {
        let lines = output_text::lines(&view.window(0, view.total));
        let mut text = lines.join("\n");
        text.push('\n');
        (text, lines.len())
    };
    vec![Effect::WriteFile {
        path: request.path,
        contents,
        lines,
        overwrite: request.overwrite,
    }]
}

/// One JSON object per node, in target order: its status and exit code and
/// its kept lines per stream. Notices (bytes history did not store) and what
/// the pane no longer holds are named apart from what the node printed.
fn json_lines(view: &OutputView) -> (String, usize) {
    let Some(run) = &view.run else {
        return (String::new(), 0);
    };
    let mut text = String::new();
    for node in &run.nodes {
        let mut streams = [Vec::new(), Vec::new()];
        let mut notices = Vec::new();
        for line in &node.lines {
            let plain = sgr::plain(&line.text);
            if line.notice {
                notices.push(plain);
            } else {
                streams[usize::from(line.stderr)].push(plain);
            }
        }
        for stderr in [false, true] {
            if let Some(p) = node.partial(stderr) {
                streams[usize::from(stderr)].push(sgr::plain(&p.text));
            }
        }
        let [stdout, stderr] = streams;
        let object = serde_json::json!({
            "node": node.name,
            "status": node.status.as_str(),
            "exit_code": node.exit_code,
            "stdout": stdout,
            "stderr": stderr,
            "notices": notices,
            "lines_not_kept": node.dropped,
            "bytes_missed": node.missed,
        });
        text.push_str(&object.to_string());
        text.push('\n');
    }
    (text, run.nodes.len())
}

/// The outcome of a write, as the status line says it.
pub fn describe_io_error(path: &std::path::Path, e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let shown = path.display();
    match e.kind() {
        ErrorKind::AlreadyExists => {
            format!("{shown} exists; :write! {shown} replaces it")
        }
        ErrorKind::NotFound => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| ".".into());
            format!("cannot write {shown}: directory {dir} does not exist")
        }
        ErrorKind::PermissionDenied => format!("cannot write {shown}: permission denied"),
        _ => format!("cannot write {shown}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_arguments_parse_and_bad_ones_say_why() {
        assert_eq!(
            parse("--json out.json", false).unwrap(),
            WriteRequest {
                path: "out.json".into(),
                json: true,
                overwrite: false
            }
        );
        assert!(parse("a.txt", true).unwrap().overwrite);
        assert!(parse("", false).unwrap_err().contains("needs a file name"));
        assert!(parse("--yaml x", false).unwrap_err().contains("--yaml"));
        assert!(parse("a b", false).unwrap_err().contains("one file name"));
    }
}
