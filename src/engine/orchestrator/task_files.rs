//! A task's `files`: module files shipped beside the executable, as Bolt ships
//! them. Each entry is `MODULE/MOUNT/PATH` with MOUNT one of `files`, `lib`,
//! `scripts` or `tasks`; an entry ending in `/` is a whole directory. On the node
//! they keep that path below the install directory (`_installdir`).

use super::task::TaskFile;
use super::task_discovery::module_root;
use std::path::{Component, Path, PathBuf};

/// The module directories Bolt lets a task ship files from.
const MOUNTS: [&str; 4] = ["files", "lib", "scripts", "tasks"];

/// Every file the entries name, in order, each once; or the first entry that
/// names nothing usable and why.
pub fn resolve(entries: &[String], path: &[PathBuf]) -> Result<Vec<TaskFile>, String> {
    let mut out: Vec<TaskFile> = Vec::new();
    for entry in entries {
        for f in resolve_one(entry, path).map_err(|why| format!("files entry {entry:?}: {why}"))? {
            if !out.iter().any(|o| o.remote == f.remote) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

fn resolve_one(entry: &str, path: &[PathBuf]) -> Result<Vec<TaskFile>, String> {
    let mut parts = entry.splitn(3, '/');
    let (module, mount, rest) = match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(mount), rest) if !m.is_empty() => (m, mount, rest.unwrap_or("")),
        _ => return Err("expected MODULE/MOUNT/PATH".into()),
    };
    if !MOUNTS.contains(&mount) {
        return Err(format!(
            "files must be in a module's {} directory",
            MOUNTS.join(", ")
        ));
    }
    let inside = Path::new(rest);
    if inside
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err("the path must stay inside the module (no `..`, no leading `/`)".into());
    }
    let root = module_root(path, module)
        .ok_or_else(|| format!("no module {module:?} on the task path"))?;
    let local = root.join(mount).join(inside);
    let directory = rest.is_empty() || rest.ends_with('/');
    if directory {
        if !local.is_dir() {
            return Err(format!("{} is not a directory", local.display()));
        }
        let mut files = Vec::new();
        walk(&local, &mut files).map_err(|e| format!("cannot list {}: {e}", local.display()))?;
        files.sort();
        return Ok(files
            .into_iter()
            .filter_map(|f| {
                let below = f.strip_prefix(&root).ok()?.to_string_lossy().into_owned();
                Some(TaskFile {
                    remote: format!("{module}/{below}"),
                    local: f,
                })
            })
            .collect());
    }
    if !local.is_file() {
        return Err(format!("{} is not a file", local.display()));
    }
    Ok(vec![TaskFile {
        local,
        remote: entry.to_string(),
    }])
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        // A symlinked directory is not followed: it could loop.
        if e.file_type()?.is_dir() {
            walk(&p, out)?;
        } else if p.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_resolve_to_module_files_or_say_why_not() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        std::fs::create_dir_all(m.join("lib/a/b")).unwrap();
        std::fs::create_dir_all(m.join("files")).unwrap();
        std::fs::write(m.join("lib/a/b/x.rb"), "x").unwrap();
        std::fs::write(m.join("lib/a/y.rb"), "y").unwrap();
        std::fs::write(m.join("files/c.sh"), "c").unwrap();
        let path = [dir.path().to_path_buf()];
        let got = resolve(
            &[
                "m/files/c.sh".into(),
                "m/lib/".into(),
                "m/files/c.sh".into(),
            ],
            &path,
        )
        .unwrap();
        let remotes: Vec<&str> = got.iter().map(|f| f.remote.as_str()).collect();
        assert_eq!(remotes, ["m/files/c.sh", "m/lib/a/b/x.rb", "m/lib/a/y.rb"]);
        for (entry, why) in [
            (
                "m/secrets/k",
                "files must be in a module's files, lib, scripts, tasks",
            ),
            ("m/files/../../etc/passwd", "must stay inside the module"),
            ("m/files//etc/passwd", "must stay inside the module"),
            ("nope/files/c.sh", "no module \"nope\""),
            ("m/files/absent.sh", "is not a file"),
            ("m/files/c.sh/", "is not a directory"),
            ("m", "expected MODULE/MOUNT/PATH"),
        ] {
            let e = resolve(&[entry.into()], &path).expect_err(entry);
            assert!(e.contains(entry) && e.contains(why), "{entry}: {e}");
        }
    }
}
