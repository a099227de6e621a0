//! PyYAML's implicit typing of plain scalars (YAML 1.1), as Ansible's
//! loader applies it: booleans, ints (octal, hex, binary, base 60), floats
//! (a `.` is required, an exponent needs its sign), dates and timestamps.

use serde_json::Value;

/// PyYAML's implicit resolver and constructor for a plain scalar.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    yaml11_int(s)
        .or_else(|| yaml11_float(s))
        .or_else(|| yaml11_timestamp(s))
        .unwrap_or_else(|| Value::String(s.to_string()))
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

fn all(s: &str, f: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(f)
}

fn yaml11_int(s: &str) -> Option<Value> {
    let (neg, body) = split_sign(s);
    let digits = |t: &str, radix: u32| i128::from_str_radix(&t.replace('_', ""), radix).ok();
    let magnitude = if let Some(b) = body.strip_prefix("0b") {
        all(b, |c| matches!(c, '0' | '1' | '_')).then(|| digits(b, 2))?
    } else if let Some(h) = body.strip_prefix("0x") {
        all(h, |c| c.is_ascii_hexdigit() || c == '_').then(|| digits(h, 16))?
    } else if body.len() > 1 && body.starts_with('0') {
        all(&body[1..], |c| matches!(c, '0'..='7' | '_')).then(|| digits(body, 8))?
    } else if body == "0"
        || (body.starts_with(|c: char| c.is_ascii_digit())
            && all(body, |c| c.is_ascii_digit() || c == '_'))
    {
        digits(body, 10)
    } else if body.contains(':') && !body.starts_with('0') {
        sexagesimal(body)?.map(|v| v as i128)
    } else {
        None
    }?;
    let v = if neg { -magnitude } else { magnitude };
    Some(int_value(v))
}

/// `190:20:30` (base 60), as YAML 1.1 allows; `Some(None)` if malformed.
fn sexagesimal(body: &str) -> Option<Option<f64>> {
    let mut parts = body.split(':');
    let head = parts.next()?;
    if !all(head, |c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    let mut value: f64 = head.replace('_', "").parse().ok()?;
    for part in parts {
        if part.is_empty()
            || part.len() > 2
            || !all(part, |c| c.is_ascii_digit())
            || part > "59" && part.len() == 2
        {
            return None;
        }
        value = value * 60.0 + part.parse::<f64>().ok()?;
    }
    Some(Some(value))
}

fn int_value(v: i128) -> Value {
    if let Ok(i) = i64::try_from(v) {
        Value::from(i)
    } else if let Ok(u) = u64::try_from(v) {
        Value::from(u)
    } else {
        Value::from(v as f64)
    }
}

fn yaml11_float(s: &str) -> Option<Value> {
    let (neg, body) = split_sign(s);
    let sign = if neg { -1.0 } else { 1.0 };
    if let Some((int_part, frac)) = body.split_once(':').and(body.rsplit_once('.')) {
        // `1:30.5`: sexagesimal with a fraction.
        if !all(frac, |c| c.is_ascii_digit() || c == '_') && !frac.is_empty() {
            return None;
        }
        let whole = sexagesimal(int_part)??;
        let frac: f64 = format!("0.{}", frac.replace('_', "")).parse().ok()?;
        return Some(Value::from(sign * (whole + frac)));
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac) = mantissa.split_once('.')?;
    let int_ok = if int_part.is_empty() {
        !neg && s.starts_with('.')
            && !frac.is_empty()
            && frac.starts_with(|c: char| c.is_ascii_digit())
    } else {
        int_part.starts_with(|c: char| c.is_ascii_digit())
            && all(int_part, |c| c.is_ascii_digit() || c == '_')
    };
    let frac_ok = frac.chars().all(|c| c.is_ascii_digit() || c == '_');
    let exp_ok = exponent.is_none_or(|e| {
        e.len() > 1
            && matches!(e.as_bytes()[0], b'+' | b'-')
            && all(&e[1..], |c| c.is_ascii_digit())
    });
    if !(int_ok && frac_ok && exp_ok) {
        return None;
    }
    let text = format!(
        "{}0{}.{}0{}",
        if neg { "-" } else { "" },
        int_part.replace('_', ""),
        frac.replace('_', ""),
        exponent.map(|e| format!("e{e}")).unwrap_or_default()
    );
    let v: f64 = text.parse().ok()?;
    v.is_finite().then(|| Value::from(v))
}

/// YAML 1.1 timestamps, printed as Python's `isoformat()` prints them.
fn yaml11_timestamp(s: &str) -> Option<Value> {
    let b = s.as_bytes();
    if b.len() < 10 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    if b.len() == 10 {
        let ok = b[5..7].iter().all(u8::is_ascii_digit)
            && b[7] == b'-'
            && b[8..].iter().all(u8::is_ascii_digit);
        return ok.then(|| Value::String(s.to_string()));
    }
    let (date, rest) = s.split_at(s.find(['T', 't', ' ', '\t'])?);
    let mut d = date.split('-');
    let (year, month, day) = (d.next()?, d.next()?, d.next()?);
    let short = |p: &str| (1..=2).contains(&p.len()) && all(p, |c| c.is_ascii_digit());
    if d.next().is_some() || !short(month) || !short(day) {
        return None;
    }
    let rest = rest
        .trim_start_matches(['T', 't'])
        .trim_start_matches([' ', '\t']);
    let tz_at = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (time, tz) = rest.split_at(tz_at);
    let time = time.trim_end_matches([' ', '\t']);
    let (hms, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':');
    let (h, m, sec) = (t.next()?, t.next()?, t.next()?);
    let two = |p: &str| p.len() == 2 && all(p, |c| c.is_ascii_digit());
    if t.next().is_some()
        || !short(h)
        || !two(m)
        || !two(sec)
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let micros: String = format!("{fraction:0<6}").chars().take(6).collect();
    let mut out = format!("{year}-{month:0>2}-{day:0>2}T{h:0>2}:{m}:{sec}");
    if micros != "000000" {
        out.push('.');
        out.push_str(&micros);
    }
    match tz {
        "" => {}
        "Z" => out.push_str("+00:00"),
        _ => {
            let (sign, body) = tz.split_at(1);
            let (th, tm) = body.split_once(':').unwrap_or((body, "00"));
            if !short(th) || !two(tm) {
                return None;
            }
            out.push_str(&format!("{sign}{th:0>2}:{tm}"));
        }
    }
    Some(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pyyaml_scalars() {
        let cases = [
            ("yes", json!(true)),
            ("Off", json!(false)),
            ("y", json!("y")),
            ("0755", json!(493)),
            ("0o17", json!("0o17")),
            ("0x1F", json!(31)),
            ("0b101", json!(5)),
            ("1:30", json!(90)),
            ("1_000", json!(1000)),
            ("-3", json!(-3)),
            ("1.5", json!(1.5)),
            ("1.", json!(1.0)),
            (".5", json!(0.5)),
            ("1e3", json!("1e3")),
            ("1.0e+3", json!(1000.0)),
            ("1.0e3", json!("1.0e3")),
            ("2001-12-14", json!("2001-12-14")),
            (
                "2001-12-14t21:59:43.10-05:00",
                json!("2001-12-14T21:59:43.100000-05:00"),
            ),
            (
                "2001-12-14 21:59:43.10 -5",
                json!("2001-12-14T21:59:43.100000-05:00"),
            ),
            (
                "2001-12-15T02:59:43.1Z",
                json!("2001-12-15T02:59:43.100000+00:00"),
            ),
            ("~", json!(null)),
            ("web01", json!("web01")),
            (".inf", json!(".inf")),
        ];
        for (text, want) in cases {
            assert_eq!(resolve_plain(text), want, "{text}");
        }
    }
}
