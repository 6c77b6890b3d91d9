//! Fixed vocabularies (materials, grades, positions …): a stable ASCII code stored in documents
//! and databases, and the Chinese label people see.

/// Declares an enum of choices with `code()`, `label()`, `parse()` and `ALL`.
#[macro_export]
macro_rules! choice {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident = $code:literal / $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Accepts the code or the Chinese label.
            pub fn parse(s: &str) -> Result<Self, $crate::error::ParseError> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == s || v.label() == s)
                    .ok_or_else(|| {
                        let codes: Vec<&str> = Self::ALL.iter().map(|v| v.code()).collect();
                        $crate::error::ParseError::new($what, s, format!("expected one of {}", codes.join(", ")))
                    })
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::error::ParseError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str {
                v.code()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}
