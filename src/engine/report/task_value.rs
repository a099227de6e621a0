//! What a task's node result says, read as Bolt reads it (`Result.for_task` in
//! Bolt's `lib/bolt/result.rb`): stdout that is one JSON object is the value,
//! any other stdout is `{"_output": stdout}`; a non-zero exit adds an `_error`
//! unless the task gave one; an `_error` that is not an object with a `msg` is
//! replaced by one that says so. A node whose value holds an `_error` failed,
//! whatever its exit code: Bolt counts `{"_error": …}` printed with exit 0 as a
//! failure, and so must drover, or a task that reports its own error would be
//! shown as a success.

use serde_json::{Map, Value, json};

/// A task's value and, when it holds an `_error`, that error's message.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskValue {
    pub value: Value,
    pub error: Option<String>,
}

/// What drover holds of a node's stdout.
pub struct Stdout<'a> {
    pub bytes: &'a [u8],
    /// False when the ring dropped older bytes: the text is not the whole output.
    pub complete: bool,
}

/// The value of a task that ended with `exit_code` (`None`: no exit code, e.g.
/// killed, timed out or never connected).
pub fn task_value(stdout: Stdout, stderr: &[u8], exit_code: Option<i32>, task: &str) -> TaskValue {
    let mut value = match std::str::from_utf8(stdout.bytes) {
        // Only the whole output can be one JSON object; a cut one (whose first
        // character may itself be cut) is shown as text, as Bolt shows any stdout
        // that is not an object.
        _ if !stdout.complete => json!({ "_output": String::from_utf8_lossy(stdout.bytes) }),
        Err(_) => json!({"_error": task_error(
            "The task result contained invalid UTF-8 on stdout", None)}),
        Ok(text) => match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => v,
            _ => json!({ "_output": text }),
        },
    };
    let map = value.as_object_mut().expect("built as an object above");
    if exit_code != Some(0) && !map.contains_key("_error") {
        map.insert("_error".into(), exit_error(stdout.bytes, stderr, exit_code));
    }
    if let Some(e) = map.get_mut("_error") {
        let valid = e.as_object().is_some_and(|o| o.contains_key("msg"));
        if !valid {
            let msg = format!(
                "Invalid error returned from task {task}: {e}. Error must be an object with a msg key."
            );
            let mut replaced = task_error(&msg, None);
            replaced["kind"] = json!("bolt/invalid-task-error");
            replaced["details"]["original_error"] = e.take();
            *e = replaced;
        }
        let o = e.as_object_mut().expect("an object with msg by now");
        o.entry("kind").or_insert_with(|| json!("bolt/error"));
        o.entry("details")
            .or_insert_with(|| Value::Object(Map::new()));
    }
    let error = map.get("_error").map(|e| match &e["msg"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    TaskValue { value, error }
}

fn exit_error(stdout: &[u8], stderr: &[u8], exit_code: Option<i32>) -> Value {
    let code = exit_code.map_or_else(|| "no exit code".to_string(), |c| c.to_string());
    let msg = match (stdout.is_empty(), stderr.is_empty()) {
        (false, _) => format!("The task failed with exit code {code}"),
        (true, true) => format!("The task failed with exit code {code} and no output"),
        (true, false) => format!(
            "The task failed with exit code {code} and no stdout, but stderr contained:\n{}",
            String::from_utf8_lossy(stderr)
        ),
    };
    task_error(&msg, exit_code)
}

fn task_error(msg: &str, exit_code: Option<i32>) -> Value {
    let mut details = Map::new();
    if let Some(c) = exit_code {
        details.insert("exit_code".into(), json!(c));
    }
    json!({
        "kind": "puppetlabs.tasks/task-error",
        "issue_code": "TASK_ERROR",
        "msg": msg,
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(s: &str) -> Stdout<'_> {
        Stdout {
            bytes: s.as_bytes(),
            complete: true,
        }
    }

    #[test]
    fn an_object_is_the_value_and_a_success() {
        let v = task_value(whole(r#" {"a": 1} "#), b"", Some(0), "m::t");
        assert_eq!(v.value, json!({"a": 1}));
        assert_eq!(v.error, None);
    }

    #[test]
    fn other_output_is_output_and_silence_is_empty_output() {
        let v = task_value(whole("hello\n"), b"", Some(0), "m::t");
        assert_eq!(v.value, json!({"_output": "hello\n"}));
        let v = task_value(whole(""), b"", Some(0), "m::t");
        assert_eq!(v.value, json!({"_output": ""}));
        let v = task_value(whole("[1, 2]"), b"", Some(0), "m::t");
        assert_eq!(v.value, json!({"_output": "[1, 2]"}));
        assert_eq!(v.error, None);
    }

    #[test]
    fn an_error_printed_with_exit_zero_is_a_failure() {
        let v = task_value(
            whole(r#"{"_error": {"msg": "no such package"}}"#),
            b"",
            Some(0),
            "m::t",
        );
        assert_eq!(v.error.as_deref(), Some("no such package"));
        assert_eq!(v.value["_error"]["kind"], "bolt/error");
    }

    #[test]
    fn a_malformed_error_is_replaced_by_one_that_says_so() {
        let v = task_value(whole(r#"{"_error": "boom"}"#), b"", Some(0), "m::t");
        let msg = v.error.unwrap();
        assert!(
            msg.starts_with("Invalid error returned from task m::t"),
            "{msg}"
        );
        assert_eq!(v.value["_error"]["kind"], "bolt/invalid-task-error");
        assert_eq!(v.value["_error"]["details"]["original_error"], "boom");
    }

    #[test]
    fn a_non_zero_exit_adds_an_error_naming_what_was_printed() {
        let v = task_value(whole(""), b"", Some(3), "m::t");
        assert_eq!(
            v.error.as_deref(),
            Some("The task failed with exit code 3 and no output")
        );
        assert_eq!(v.value["_error"]["details"]["exit_code"], 3);
        let v = task_value(whole(""), b"disk full", Some(1), "m::t");
        assert!(
            v.error
                .unwrap()
                .ends_with("but stderr contained:\ndisk full")
        );
        let v = task_value(whole(r#"{"x": 1}"#), b"", Some(2), "m::t");
        assert_eq!(v.error.as_deref(), Some("The task failed with exit code 2"));
        assert_eq!(v.value["x"], 1);
    }

    #[test]
    fn a_task_error_is_kept_over_the_exit_code() {
        let v = task_value(
            whole(r#"{"_error": {"msg": "mine", "kind": "k"}}"#),
            b"",
            Some(1),
            "m::t",
        );
        assert_eq!(v.error.as_deref(), Some("mine"));
        assert_eq!(v.value["_error"]["kind"], "k");
    }

    #[test]
    fn invalid_utf8_and_cut_output() {
        let v = task_value(
            Stdout {
                bytes: b"\xff\xfe",
                complete: true,
            },
            b"",
            Some(0),
            "m::t",
        );
        assert!(v.error.unwrap().contains("invalid UTF-8"));
        let v = task_value(
            Stdout {
                bytes: b"{\"a\":",
                complete: false,
            },
            b"",
            Some(0),
            "m::t",
        );
        assert_eq!(v.value, json!({"_output": "{\"a\":"}));
        assert_eq!(v.error, None);
    }
}
