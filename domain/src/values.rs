//! Checked values: once built, they are valid. Each `parse` takes the input field's name so that
//! the error points at it.

use std::fmt;
use std::str::FromStr;

use crate::error::{FieldError, FieldErrorCode};

/// Longest name of anything (a school, a person, a service, a partner client).
pub const MAX_NAME_LEN: usize = 200;
/// Longest free-text reason (a cancellation, an adjustment, an override).
pub const MAX_REASON_LEN: usize = 1000;

fn err(field: &str, code: FieldErrorCode, message: impl Into<String>) -> FieldError {
    FieldError::new(field, code, message)
}

/// Trimmed text of 1..=`max` characters, without control characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(err(field, FieldErrorCode::Required, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(err(
            field,
            FieldErrorCode::TooLong,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(err(
            field,
            FieldErrorCode::Invalid,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Like [`required_text`], but absent or blank means `None`.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match value {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => required_text(field, v, max).map(Some),
    }
}

/// A display name: of a school, person, service or client.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

/// Bidirectional override and isolate controls: they make text read other than it is stored
/// (`School \u{202e}txet` shows as "School text"), so they are refused like control characters.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether a character shows anything: not white space, not a control, not a zero-width or
/// other format character (such as U+200B, U+2060, U+FEFF), nor a variation selector alone.
fn is_visible(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{ffa0}'
            | '\u{fff0}'..='\u{fff8}' | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}'))
}

impl Name {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let text = required_text(field, value, MAX_NAME_LEN)?;
        if text.chars().any(is_bidi_control) {
            return Err(err(
                field,
                FieldErrorCode::Invalid,
                "must not contain bidirectional override or isolate characters",
            ));
        }
        if !text.chars().any(is_visible) {
            return Err(err(field, FieldErrorCode::Required, "must contain a visible character"));
        }
        Ok(Self(text.replace(['\n', '\t'], " ")))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A school's Unique Reference Number in England: six digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Urn(String);

impl Urn {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let v = value.trim();
        if v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(v.to_owned()))
        } else {
            Err(err(
                field,
                FieldErrorCode::Invalid,
                "a URN is six digits, such as 100000",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An email address, lower-cased. Checked for shape only; ownership is proven by signing in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let v = value.trim().to_lowercase();
        let invalid = || err(field, FieldErrorCode::Invalid, "is not an email address");
        if v.len() > 254 {
            return Err(err(field, FieldErrorCode::TooLong, "must be at most 254 characters"));
        }
        let (local, host) = v.split_once('@').ok_or_else(invalid)?;
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && host.contains('.')
            && !host.starts_with('.')
            && !host.ends_with('.')
            && !host.contains("..")
            && !v.contains(char::is_whitespace)
            && !host.contains('@')
            && v.chars().all(|c| !c.is_control());
        if well_formed { Ok(Self(v)) } else { Err(invalid()) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A password someone chose: long enough to resist guessing, short enough to hash cheaply.
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 256;

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let n = value.chars().count();
        if n < Self::MIN_LEN {
            return Err(err(
                field,
                FieldErrorCode::TooShort,
                format!("must be at least {} characters", Self::MIN_LEN),
            ));
        }
        if n > Self::MAX_LEN {
            return Err(err(
                field,
                FieldErrorCode::TooLong,
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        Ok(Self(value.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// An IANA time zone such as `Europe/London`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TimeZone {
    pub const DEFAULT: &'static str = "Europe/London";

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        chrono_tz::Tz::from_str(value.trim()).map(Self).map_err(|_| {
            err(
                field,
                FieldErrorCode::Invalid,
                "is not a time zone such as Europe/London",
            )
        })
    }
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

/// A whole number of minutes within `min..=max`.
pub fn minutes_in(field: &str, value: i64, min: i64, max: i64) -> Result<i32, FieldError> {
    if value < min || value > max {
        return Err(err(
            field,
            FieldErrorCode::OutOfRange,
            format!("must be between {min} and {max} minutes"),
        ));
    }
    i32::try_from(value).map_err(|_| err(field, FieldErrorCode::OutOfRange, "is too large"))
}

/// Declares a closed set of values stored as text, with its GraphQL-style name for each.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, sea_orm::DeriveValueType)]
        #[sea_orm(value_type = "String")]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(field: &str, value: &str) -> Result<Self, $crate::error::FieldError> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::FieldError::new(
                        field,
                        $crate::error::FieldErrorCode::Invalid,
                        format!("must be one of {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// How the value is read back from the database.
        impl std::str::FromStr for $name {
            type Err = $crate::values::UnknownValue;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse("", value).map_err(|_| $crate::values::UnknownValue(value.to_owned()))
            }
        }
    };
}

/// A stored enum value this program does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown value `{0}`")]
pub struct UnknownValue(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urns_are_six_digits() {
        assert!(Urn::parse("urn", "100000").is_ok());
        assert!(Urn::parse("urn", " 123456 ").is_ok());
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            let e = Urn::parse("urn", bad).unwrap_err();
            assert_eq!(e.code, FieldErrorCode::Invalid, "{bad}");
            assert_eq!(e.field, vec!["urn".to_owned()]);
        }
    }

    #[test]
    fn names_need_a_visible_character_and_no_bidi_controls() {
        for blank in ["\u{200b}\u{200b}", "\u{feff}", "\u{2060}\u{200d}", "\u{3164}"] {
            assert_eq!(
                Name::parse("name", blank).unwrap_err().code,
                FieldErrorCode::Required,
                "{blank:?}"
            );
        }
        for tricky in ["School \u{202e}txet", "a\u{2066}b\u{2069}", "\u{202a}x"] {
            assert_eq!(
                Name::parse("name", tricky).unwrap_err().code,
                FieldErrorCode::Invalid,
                "{tricky:?}"
            );
        }
        assert!(Name::parse("name", "Zoë O\u{2019}Brien-Smith").is_ok());
        assert!(Name::parse("name", "مدرسة").is_ok());
        assert!(Name::parse("name", "\u{200b}Oak").is_ok());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("name", "  Oak Primary ").unwrap().as_str(), "Oak Primary");
        assert_eq!(Name::parse("name", "   ").unwrap_err().code, FieldErrorCode::Required);
        assert_eq!(
            Name::parse("name", &"x".repeat(201)).unwrap_err().code,
            FieldErrorCode::TooLong
        );
        assert!(Name::parse("name", &"é".repeat(200)).is_ok());
        assert_eq!(
            Name::parse("name", "a\u{0}b").unwrap_err().code,
            FieldErrorCode::Invalid
        );
    }

    #[test]
    fn emails_are_lower_cased_and_shaped() {
        assert_eq!(
            Email::parse("email", " Senco@Oak.sch.UK ").unwrap().as_str(),
            "senco@oak.sch.uk"
        );
        for bad in [
            "senco",
            "senco@",
            "@oak.sch.uk",
            "se nco@oak.uk",
            "a@b",
            "a@b..uk",
            "a@@b.uk",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_have_bounds_and_never_print() {
        assert_eq!(
            Password::parse("password", "short").unwrap_err().code,
            FieldErrorCode::TooShort
        );
        let p = Password::parse("password", "a long enough passphrase").unwrap();
        assert!(!format!("{p:?}").contains("passphrase"));
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            TimeZone::parse("timeZone", "Europe/London").unwrap().name(),
            "Europe/London"
        );
        assert!(TimeZone::parse("timeZone", "Mars/Olympus").is_err());
    }
}
