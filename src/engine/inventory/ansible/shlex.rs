//! Python's `shlex.split(line, comments=True)`, which splits INI host
//! lines: `web1 user="a b" # comment`.

use std::borrow::Cow;

/// Python's `shlex.split(line, comments=True)`: POSIX quoting, `\`
/// escapes, and `#` starting a comment even inside a word. Tokens borrow
/// from `line` when nothing in it needs unquoting (the usual host line).
pub fn shlex_split(line: &str) -> Result<Vec<Cow<'_, str>>, String> {
    split(line, true)
}

/// `shlex.split(line, comments=False)`: the same POSIX word splitting with
/// `#` an ordinary character (command templates).
pub fn shlex_split_words(line: &str) -> Result<Vec<Cow<'_, str>>, String> {
    split(line, false)
}

fn split(line: &str, comments: bool) -> Result<Vec<Cow<'_, str>>, String> {
    let quoted = line.contains(['\'', '"', '\\']);
    let commented = comments && line.contains('#');
    if !quoted && !commented {
        return Ok(line
            .split([' ', '\t', '\r', '\n'])
            .filter(|t| !t.is_empty())
            .map(Cow::Borrowed)
            .collect());
    }
    let mut tokens = Vec::new();
    let mut token = String::new();
    let mut in_token = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if " \t\r\n".contains(c) => {
                if in_token {
                    tokens.push(Cow::Owned(std::mem::take(&mut token)));
                    in_token = false;
                }
            }
            '#' if comments => break,
            '\\' => {
                token.push(chars.next().ok_or("No escaped character")?);
                in_token = true;
            }
            '\'' | '"' => {
                in_token = true;
                loop {
                    let q = chars.next().ok_or("No closing quotation")?;
                    if q == c {
                        break;
                    }
                    if c == '"' && q == '\\' {
                        let e = chars.next().ok_or("No closing quotation")?;
                        if e != '"' && e != '\\' {
                            token.push('\\');
                        }
                        token.push(e);
                    } else {
                        token.push(q);
                    }
                }
            }
            c => {
                token.push(c);
                in_token = true;
            }
        }
    }
    if in_token {
        tokens.push(Cow::Owned(token));
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shlex_like_python() {
        let split = |s: &str| -> Vec<String> {
            shlex_split(s)
                .unwrap()
                .into_iter()
                .map(String::from)
                .collect()
        };
        assert_eq!(
            split(r#"h a="b c" d='e f' g=\"x\" # c"#),
            ["h", "a=b c", "d=e f", "g=\"x\""]
        );
        assert_eq!(split("h pass=ab#cd"), ["h", "pass=ab"]);
        assert_eq!(split(r#"h q="'x'" e="""#), ["h", "q='x'", "e="]);
        assert_eq!(split(r#"h a="x\y""#), ["h", r"a=x\y"]);
        assert!(shlex_split("h a='b").is_err());
        assert_eq!(split(" h\ta=1  b=2\r"), ["h", "a=1", "b=2"]);
        assert!(split(" \t ").is_empty());
    }
}
