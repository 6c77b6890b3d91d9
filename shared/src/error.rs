//! The one error type for values that fail validation.

use std::fmt;

/// A value that is not what a field accepts. The message names the field, quotes the value and
/// says what was expected, so it can travel unchanged to a 4xx body or a phone's error line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    pub field: &'static str,
    pub value: String,
    pub expected: String,
}

impl ParseError {
    pub fn new(field: &'static str, value: impl fmt::Display, expected: impl Into<String>) -> Self {
        let mut value = value.to_string();
        if value.chars().count() > 80 {
            value = value.chars().take(80).collect::<String>() + "…";
        }
        Self {
            field,
            value,
            expected: expected.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} {:?}: {}",
            self.field, self.value, self.expected
        )
    }
}
