//! The arguments of one config line, consumed left to right with ssh's checks
//! for missing, empty and surplus values.

use super::error::{ErrorKind, SshConfigError};

/// A bad value for a keyword.
pub(super) fn bad(keyword: &str, value: &str, expected: &'static str) -> ErrorKind {
    ErrorKind::BadValue {
        keyword: keyword.to_owned(),
        value: value.to_owned(),
        expected,
    }
}

/// Why a line failed: a problem of the line itself, or one inside a file it
/// includes (already located there).
pub(super) enum LineError {
    Kind(ErrorKind),
    /// An error inside an included file, already located.
    Nested(SshConfigError),
}

impl From<ErrorKind> for LineError {
    fn from(k: ErrorKind) -> Self {
        LineError::Kind(k)
    }
}

/// The arguments of one line, consumed left to right.
pub(super) struct Args<'k> {
    pub kw: &'k str,
    pub list: Vec<String>,
    pub next: usize,
}

impl Args<'_> {
    pub(super) fn optional(&mut self) -> Option<String> {
        let v = self.list.get(self.next).cloned();
        self.next = (self.next + 1).min(self.list.len());
        v
    }

    /// One non-empty argument.
    pub(super) fn required(&mut self) -> Result<String, LineError> {
        match self.optional() {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ErrorKind::MissingArgument(self.kw.to_owned()).into()),
        }
    }

    /// One argument from a fixed vocabulary.
    pub(super) fn word<T>(
        &mut self,
        parse: fn(&str) -> Option<T>,
        expected: &'static str,
    ) -> Result<T, LineError> {
        let v = self.required()?;
        parse(&v).ok_or_else(|| bad(self.kw, &v, expected).into())
    }

    /// All remaining arguments.
    pub(super) fn rest(&mut self) -> Vec<String> {
        let v = self.list[self.next..].to_vec();
        self.next = self.list.len();
        v
    }

    /// A list of files where `none` must stand alone.
    pub(super) fn file_list(&mut self) -> Result<Vec<String>, LineError> {
        let list = self.rest();
        for v in &list {
            if v.is_empty() {
                return Err(ErrorKind::EmptyArgument(self.kw.to_owned()).into());
            }
            if v.eq_ignore_ascii_case("none") && list.len() > 1 {
                return Err(ErrorKind::NoneNotAlone(self.kw.to_owned()).into());
            }
        }
        Ok(list)
    }
}
