//! The command template of an `exec` node (`docker exec -i {container} sh -c
//! {command}`): split into argv words once, like a POSIX shell splits words,
//! then each `{name}` filled in from the node's vars inside the word it stands
//! in. A value never becomes more or fewer words and no shell reads it, so
//! quotes, `;`, `$(…)` or newlines in a var or in the command reach the
//! program as they are, in one argument.

use crate::engine::inventory::Node;
use crate::engine::inventory::ansible::shlex::shlex_split_words;
use serde_json::Value;

/// The node var that holds the template.
pub const TEMPLATE_VAR: &str = "exec_template";
/// The placeholder for the user's command.
pub const COMMAND: &str = "command";
/// The placeholder for the node's name.
pub const NODE: &str = "node";

/// Part of one argv word.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(String),
}

/// A parsed template: argv words made of text and placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    words: Vec<Vec<Piece>>,
}

impl Template {
    /// Splits `text` into words (`'…'`, `"…"` and `\` quote as in sh; `#` is an
    /// ordinary character) and each word into text and `{name}` placeholders
    /// (`{{` and `}}` are literal braces). The template must hold `{command}`.
    pub fn parse(text: &str) -> Result<Template, String> {
        let words = shlex_split_words(text)?;
        if words.is_empty() {
            return Err("the template is empty".into());
        }
        let words = words
            .iter()
            .map(|w| pieces(w))
            .collect::<Result<Vec<_>, _>>()?;
        let template = Template { words };
        if !template.vars().any(|v| v == COMMAND) {
            return Err(format!(
                "the template has no {{{COMMAND}}}: the user's command would not run"
            ));
        }
        Ok(template)
    }

    /// Placeholder names, in order of appearance (repeats included).
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.words.iter().flatten().filter_map(|p| match p {
            Piece::Var(v) => Some(v.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// The argv for `command` on `node`: `{command}` is the command, `{node}`
    /// the node's name, any other `{name}` the node's var `name` (a string,
    /// number or boolean). `Err` names the first placeholder that cannot be filled.
    pub fn argv(&self, node: &Node, command: &str) -> Result<Vec<String>, String> {
        self.words
            .iter()
            .map(|word| {
                let mut arg = String::new();
                for piece in word {
                    match piece {
                        Piece::Text(t) => arg.push_str(t),
                        Piece::Var(v) => arg.push_str(&value(node, v, command)?),
                    }
                }
                if arg.contains('\0') {
                    return Err("an argument would hold a NUL byte, which no argv can carry".into());
                }
                Ok(arg)
            })
            .collect()
    }
}

/// The template of `node` (its var `exec_template`), parsed and checked against
/// its vars; `Err` is the whole reason: node, var and template.
pub fn for_node(node: &Node) -> Result<Template, String> {
    let text = match node.vars.get(TEMPLATE_VAR) {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(format!(
                "node {}: var {TEMPLATE_VAR} must be a string, not {}",
                node.name,
                kind(other)
            ));
        }
        None => {
            return Err(format!(
                "node {}: transport exec needs the var {TEMPLATE_VAR} \
                 (e.g. \"docker exec -i {{container}} sh -c {{command}}\")",
                node.name
            ));
        }
    };
    let problem = |reason: String| format!("node {}: {TEMPLATE_VAR} {text:?}: {reason}", node.name);
    let template = Template::parse(text).map_err(problem)?;
    template.argv(node, "").map_err(problem)?;
    Ok(template)
}

fn value(node: &Node, var: &str, command: &str) -> Result<String, String> {
    match var {
        COMMAND => return Ok(command.to_string()),
        NODE => return Ok(node.name.clone()),
        _ => {}
    }
    match node.vars.get(var) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(other) => Err(format!(
            "{{{var}}}: var {var} is {}, not a single value",
            kind(other)
        )),
        None => Err(format!(
            "{{{var}}}: the node has no var {var} (it has: {})",
            var_names(node)
        )),
    }
}

fn var_names(node: &Node) -> String {
    let names: Vec<&str> = node
        .vars
        .keys()
        .map(String::as_str)
        .filter(|k| *k != TEMPLATE_VAR)
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Splits one word into text and `{name}` placeholders.
fn pieces(word: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => {
                            return Err(format!(
                                "unclosed {{ in {word:?} (write {{{{ for a brace)"
                            ));
                        }
                    }
                }
                if !is_name(&name) {
                    return Err(format!(
                        "{{{name}}} in {word:?} is not a placeholder: names are letters, \
                         digits and _ (write {{{{ and }}}} for braces)"
                    ));
                }
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(Piece::Var(name));
            }
            '}' => return Err(format!("lone }} in {word:?} (write }}}} for a brace)")),
            c => text.push(c),
        }
    }
    if !text.is_empty() || out.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(vars: Value) -> Node {
        let mut n = Node::local("c1", "test");
        n.transport = "exec".into();
        n.vars = serde_json::from_value(vars).unwrap();
        n
    }

    #[test]
    fn placeholders_fill_whole_words_and_parts_of_words() {
        let t = Template::parse("kubectl exec -i {pod} -n={ns} -- sh -c {command}").unwrap();
        let n = node(json!({"pod": "a b; rm -rf /", "ns": 7}));
        let argv = t.argv(&n, "echo '$(x)'\n").unwrap();
        assert_eq!(
            argv,
            [
                "kubectl",
                "exec",
                "-i",
                "a b; rm -rf /",
                "-n=7",
                "--",
                "sh",
                "-c",
                "echo '$(x)'\n"
            ]
        );
    }

    #[test]
    fn quoting_braces_and_hash_in_the_template() {
        let t = Template::parse("sh -c 'printf \"%s {{x}}\" \"$1\" # no comment' {node} {command}")
            .unwrap();
        let argv = t.argv(&node(json!({})), "").unwrap();
        assert_eq!(argv[2], "printf \"%s {x}\" \"$1\" # no comment");
        assert_eq!(argv[3], "c1");
        assert_eq!(argv[4], "");
    }

    #[test]
    fn bad_templates_say_why() {
        for (text, needle) in [
            ("", "empty"),
            ("sh -c", "no {command}"),
            ("sh -c '{command}", "closing quotation"),
            ("sh {a b} {command}", "unclosed {"),
            ("sh '{a b}' {command}", "not a placeholder"),
            ("sh {} {command}", "not a placeholder"),
            ("sh '{x {command}'", "not a placeholder"),
            ("sh -c {command", "unclosed {"),
            ("sh x} {command}", "lone }"),
        ] {
            let e = Template::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn node_errors_name_node_var_and_template() {
        let n = node(
            json!({"exec_template": "docker exec -i {container} sh -c {command}",
                            "other": 1}),
        );
        let e = for_node(&n).unwrap_err();
        for needle in [
            "node c1",
            "{container}",
            "no var container",
            "docker exec -i",
            "other",
        ] {
            assert!(e.contains(needle), "{e}");
        }
        let e = for_node(&node(json!({"exec_template": "x {v} {command}", "v": [1]}))).unwrap_err();
        assert!(e.contains("var v is a list"), "{e}");
        let e = for_node(&node(json!({}))).unwrap_err();
        assert!(e.contains("needs the var exec_template"), "{e}");
        let e = for_node(&node(json!({"exec_template": 3}))).unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        let e = for_node(&node(
            json!({"exec_template": "sh -c {command} {v}", "v": "a\u{0}b"}),
        ))
        .unwrap_err();
        assert!(e.contains("NUL"), "{e}");
    }
}
