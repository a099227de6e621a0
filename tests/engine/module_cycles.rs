//! The modules of `src/` form layers: the "uses" relation between module files
//! has no cycle. A circle (`a` uses `b`, `b` uses `a`) means the two can be
//! neither read nor changed apart, so this test names every circle.
//!
//! Every `crate::`, `super::` and `self::` path in a module file (in `use` trees
//! and inline) is resolved to the deepest module it names. A module using its
//! own ancestor or descendant (declaring children, re-exporting their items,
//! reaching `super::` for shared types) is nesting, not a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

type Module = Vec<String>;

/// Module path of every `.rs` file under `src/`, with its text.
fn modules(root: &Path) -> BTreeMap<Module, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read src/") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(root).unwrap().with_extension("");
            let mut module: Module = rel.iter().map(|p| p.to_string_lossy().into()).collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            if module == ["main"] {
                continue; // the binary, not part of the library's layers
            }
            out.insert(module, fs::read_to_string(&path).expect("read module"));
        }
    }
    out
}

/// Text with comments and string/char literals blanked, so that paths in prose
/// and in messages are not read as dependencies.
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            '/' if b.get(i + 1) == Some(&'/') => {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            }
            '/' if b.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            'r' if matches!(b.get(i + 1), Some('"' | '#'))
                && (i == 0 || !(b[i - 1].is_alphanumeric() || b[i - 1] == '_')) =>
            {
                let mut j = i + 1;
                while b.get(j) == Some(&'#') {
                    j += 1;
                }
                if b.get(j) != Some(&'"') {
                    out.push(b[i]);
                    i += 1;
                    continue;
                }
                let hashes = j - i - 1;
                i = j + 1;
                while i < b.len()
                    && !(b[i] == '"' && (1..=hashes).all(|k| b.get(i + k) == Some(&'#')))
                {
                    i += 1;
                }
                i += 1 + hashes;
                out.push_str("\"\"");
            }
            '"' => {
                i += 1;
                while i < b.len() && b[i] != '"' {
                    i += if b[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            '\'' if b.get(i + 2) == Some(&'\'') || b.get(i + 1) == Some(&'\\') => {
                // A char literal ('x' or '\n'); lifetimes ('a) fall through.
                i += 1;
                while i < b.len() && b[i] != '\'' {
                    i += if b[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("' '");
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Every path beginning with `crate`, `super` or `self`, with `use` trees
/// (`a::{b, c::d}`) expanded.
fn paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start_ok = i == 0
            || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == ':');
        if start_ok && (chars[i].is_alphabetic() || chars[i] == '_') {
            let word_end = (i..chars.len())
                .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))
                .unwrap_or(chars.len());
            let word: String = chars[i..word_end].iter().collect();
            if matches!(word.as_str(), "crate" | "super" | "self")
                && chars.get(word_end) == Some(&':')
            {
                let mut pos = i;
                tree(&chars, &mut pos, Vec::new(), &mut out);
                i = pos.max(word_end);
                continue;
            }
            i = word_end;
            continue;
        }
        i += 1;
    }
    out
}

/// Reads one use tree at `pos`, pushing each full path under `prefix`.
fn tree(c: &[char], pos: &mut usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    loop {
        while c.get(*pos).is_some_and(|ch| ch.is_whitespace()) {
            *pos += 1;
        }
        if c.get(*pos) == Some(&'{') {
            *pos += 1;
            loop {
                tree(c, pos, prefix.clone(), out);
                while c
                    .get(*pos)
                    .is_some_and(|ch| ch.is_whitespace() || *ch == ',')
                {
                    *pos += 1;
                }
                if c.get(*pos) != Some(&'}') && *pos < c.len() {
                    continue;
                }
                *pos += 1;
                return;
            }
        }
        let start = *pos;
        while c
            .get(*pos)
            .is_some_and(|ch| ch.is_alphanumeric() || *ch == '_' || *ch == '*')
        {
            *pos += 1;
        }
        let segment: String = c[start..*pos].iter().collect();
        if !segment.is_empty() && segment != "*" {
            prefix.push(segment);
        }
        if c.get(*pos) == Some(&':') && c.get(*pos + 1) == Some(&':') {
            *pos += 2;
            continue;
        }
        if !prefix.is_empty() {
            out.push(prefix);
        }
        return;
    }
}

/// The deepest existing module named by `path`, used from `from`.
fn resolve(from: &Module, path: &[String], known: &BTreeSet<Module>) -> Option<Module> {
    let mut base: Module = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("self" | "super") => {
            base = from.clone();
            while let Some(seg) = rest.first().map(String::as_str) {
                match seg {
                    "self" => {}
                    "super" => {
                        base.pop()?;
                    }
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    let mut module = base;
    for seg in rest {
        let mut deeper = module.clone();
        deeper.push(seg.clone());
        if !known.contains(&deeper) {
            break;
        }
        module = deeper;
    }
    Some(module)
}

/// Edges between modules, each with one witness.
fn module_edges(
    mods: &BTreeMap<Module, String>,
    grouping: Grouping,
) -> BTreeMap<(String, String), String> {
    let known: BTreeSet<Module> = mods.keys().cloned().collect();
    let mut edges = BTreeMap::new();
    for (from, text) in mods {
        for path in paths(&code_only(text)) {
            let Some(to) = resolve(from, &path, &known) else {
                continue;
            };
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == to.len() {
                continue; // ancestor or descendant
            }
            let witness = format!("src/{} uses {}", from.join("/"), path.join("::"));
            let key = match grouping {
                Grouping::Files => (from.join("::"), to.join("::")),
                Grouping::Siblings => (from[..=common].join("::"), to[..=common].join("::")),
            };
            edges.entry(key).or_insert(witness);
        }
    }
    edges
}

#[derive(Clone, Copy)]
enum Grouping {
    /// Each module file on its own.
    Files,
    /// A module with all its descendants, against its siblings.
    Siblings,
}

/// Each circle (members joined by ` <-> `) with the edges that make it.
fn report(edges: &BTreeMap<(String, String), String>) -> BTreeMap<String, Vec<String>> {
    circles(edges)
        .into_iter()
        .map(|circle| {
            let witnesses = edges
                .iter()
                .filter(|((a, b), _)| circle.contains(a) && circle.contains(b))
                .map(|(_, w)| w.clone())
                .collect();
            (circle.join(" <-> "), witnesses)
        })
        .collect()
}

fn src_modules() -> BTreeMap<Module, String> {
    let mods = modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        mods.len() > 50,
        "found only {} modules under src/",
        mods.len()
    );
    mods
}

/// Strongly connected components with more than one member (Tarjan).
fn circles(edges: &BTreeMap<(String, String), String>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.keys().flat_map(|(a, b)| [a, b]).collect();
    let mut index = BTreeMap::new();
    let mut low = BTreeMap::new();
    let mut stack: Vec<&String> = Vec::new();
    let mut found = Vec::new();
    fn visit<'a>(
        v: &'a String,
        edges: &'a BTreeMap<(String, String), String>,
        index: &mut BTreeMap<&'a String, usize>,
        low: &mut BTreeMap<&'a String, usize>,
        stack: &mut Vec<&'a String>,
        found: &mut Vec<Vec<String>>,
    ) {
        let i = index.len();
        index.insert(v, i);
        low.insert(v, i);
        stack.push(v);
        for (_, w) in edges.keys().filter(|(a, _)| a == v) {
            if !index.contains_key(w) {
                visit(w, edges, index, low, stack, found);
                low.insert(v, low[v].min(low[w]));
            } else if stack.contains(&w) {
                low.insert(v, low[v].min(index[w]));
            }
        }
        if low[v] == index[v] {
            let mut scc = Vec::new();
            while let Some(w) = stack.pop() {
                scc.push(w.clone());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                found.push(scc);
            }
        }
    }
    for v in nodes {
        if !index.contains_key(v) {
            visit(v, edges, &mut index, &mut low, &mut stack, &mut found);
        }
    }
    found
}

#[test]
fn module_files_have_no_circles() {
    let found = report(&module_edges(&src_modules(), Grouping::Files));
    assert!(found.is_empty(), "module circles: {found:#?}");
}

/// The same at the level of whole subtrees (`engine::transport` with all it
/// holds against `engine::inventory` with all it holds). `ui` draws plain view
/// data that `app::tui` fills, so `app` uses `ui` and never the other way.
#[test]
fn sibling_subtrees_have_no_circles() {
    let found = report(&module_edges(&src_modules(), Grouping::Siblings));
    assert!(found.is_empty(), "subtree circles: {found:#?}");
}

#[test]
fn the_checker_sees_use_trees_and_ignores_comments() {
    let code = code_only(
        "use super::{a::X, b::{c, d::Y}}; // crate::z\nlet s = \"crate::q\"; crate::e::f();",
    );
    let found = paths(&code);
    let flat: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        flat,
        [
            "super::a::X",
            "super::b::c",
            "super::b::d::Y",
            "crate::e::f"
        ]
    );
    let mut edges = BTreeMap::new();
    edges.insert(("a".to_string(), "b".to_string()), String::new());
    edges.insert(("b".to_string(), "c".to_string()), String::new());
    assert!(circles(&edges).is_empty());
    edges.insert(("c".to_string(), "a".to_string()), String::new());
    assert_eq!(circles(&edges), [["a", "b", "c"]]);
}
