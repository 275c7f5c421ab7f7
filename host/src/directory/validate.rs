//! Field validation shared by every admin resource. Errors are collected per field so a
//! client can show them all at once, next to the inputs they concern.

use std::collections::BTreeMap;

use serde::Serialize;

/// Validation failures keyed by field path (`skill_groups[1].priority`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a failure; the first message for a field wins.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// Records a failure, replacing any earlier message for the field.
    pub fn set(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.insert(field.into(), message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    /// `Ok` when nothing was recorded.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// A single-field failure.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }
}

/// What [`text`] accepts once trimmed, as a JSON Schema pattern: no control characters
/// and no surrounding white space (so that two entries differ exactly when they differ
/// after trimming).
pub const TRIMMED_PATTERN: &str =
    r"^[^\s\x00-\x1f\x7f-\x9f]([^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$";

/// Trims `value` in place and checks its length in characters (not bytes, so that
/// Chinese names get the same allowance as Latin ones) and that it has no control
/// characters.
pub fn text(errors: &mut FieldErrors, field: &str, value: &mut String, min: usize, max: usize) {
    let trimmed = value.trim();
    if trimmed.len() != value.len() {
        *value = trimmed.to_owned();
    }
    let chars = value.chars().count();
    if chars < min {
        if min == 1 {
            errors.add(field, "must not be empty");
        } else {
            errors.add(field, format!("must be at least {min} characters"));
        }
    } else if chars > max {
        errors.add(field, format!("must be at most {max} characters"));
    } else if value.chars().any(char::is_control) {
        errors.add(field, "must not contain control characters");
    }
}

/// Like [`text`], but an empty string after trimming becomes `None`.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    value: &mut Option<String>,
    max: usize,
) {
    if let Some(v) = value {
        text(errors, field, v, 0, max);
        if v.is_empty() {
            *value = None;
        }
    }
}

/// Longest e-mail address RFC 5321 allows.
pub const EMAIL_MAX: usize = 254;

/// Normalises an e-mail address (trimmed, lower-case) and checks its shape. kefu only
/// needs addresses to be unique sign-in names, so the check is deliberately simple.
pub fn email(errors: &mut FieldErrors, field: &str, value: &mut String) {
    *value = value.trim().to_lowercase();
    if value.is_empty() {
        errors.add(field, "must not be empty");
        return;
    }
    if value.len() > EMAIL_MAX {
        errors.add(field, format!("must be at most {EMAIL_MAX} characters"));
        return;
    }
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && domain.contains('.')
                && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if !valid {
        errors.add(field, "must be an e-mail address such as name@example.com");
    }
}

/// Phone numbers: digits with an optional leading `+` and the usual separators.
pub fn phone(errors: &mut FieldErrors, field: &str, value: &mut Option<String>) {
    optional_text(errors, field, value, 32);
    if let Some(v) = value {
        let digits = v.chars().filter(char::is_ascii_digit).count();
        let allowed = v.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit()
                || c == ' '
                || c == '-'
                || c == '('
                || c == ')'
                || (c == '+' && i == 0)
        });
        if !allowed || digits < 3 {
            errors.add(
                field,
                "must be a phone number: digits, spaces, dashes and an optional leading +",
            );
        }
    }
}

/// Shortest and longest passwords accepted. The upper bound keeps hashing cheap to
/// refuse rather than a way to make the server hash megabytes.
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

pub fn password(errors: &mut FieldErrors, field: &str, value: &str) {
    let chars = value.chars().count();
    if chars < PASSWORD_MIN {
        errors.add(field, format!("must be at least {PASSWORD_MIN} characters"));
    } else if chars > PASSWORD_MAX {
        errors.add(field, format!("must be at most {PASSWORD_MAX} characters"));
    }
}

/// Checks `value` lies in `min..=max`.
pub fn range<T: PartialOrd + std::fmt::Display + Copy>(
    errors: &mut FieldErrors,
    field: &str,
    value: T,
    min: T,
    max: T,
) {
    if value < min || value > max {
        errors.add(field, format!("must be between {min} and {max}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_counts_characters_not_bytes() {
        let mut errors = FieldErrors::new();
        let mut name = "售前咨询组".to_owned();
        text(&mut errors, "name", &mut name, 1, 5);
        assert!(errors.is_empty(), "{errors:?}");
        let mut long = "售".repeat(6);
        text(&mut errors, "name", &mut long, 1, 5);
        assert_eq!(errors.get("name"), Some("must be at most 5 characters"));
    }

    #[test]
    fn text_trims_and_rejects_blank_and_control_characters() {
        let mut errors = FieldErrors::new();
        let mut v = "  Alice \t".to_owned();
        text(&mut errors, "a", &mut v, 1, 10);
        assert_eq!(v, "Alice");
        let mut blank = "   ".to_owned();
        text(&mut errors, "b", &mut blank, 1, 10);
        let mut ctl = "a\u{7}b".to_owned();
        text(&mut errors, "c", &mut ctl, 1, 10);
        assert_eq!(errors.get("a"), None);
        assert_eq!(errors.get("b"), Some("must not be empty"));
        assert_eq!(errors.get("c"), Some("must not contain control characters"));
    }

    #[test]
    fn email_is_normalised_and_checked() {
        let mut errors = FieldErrors::new();
        let mut ok = " Agent1@Demo.KEFU ".to_owned();
        email(&mut errors, "ok", &mut ok);
        assert_eq!(ok, "agent1@demo.kefu");
        for (i, bad) in [
            "",
            "no-at",
            "a@b",
            "@x.com",
            "a@.com",
            "a b@x.com",
            "a@x.com.",
        ]
        .iter()
        .enumerate()
        {
            let mut v = (*bad).to_owned();
            email(&mut errors, &format!("bad{i}"), &mut v);
            assert!(errors.get(&format!("bad{i}")).is_some(), "{bad} accepted");
        }
        assert_eq!(errors.get("ok"), None);
    }

    #[test]
    fn phone_accepts_common_forms_only() {
        let mut errors = FieldErrors::new();
        let mut ok = Some("+86 138-0013-8000".to_owned());
        phone(&mut errors, "ok", &mut ok);
        let mut empty = Some("  ".to_owned());
        phone(&mut errors, "empty", &mut empty);
        let mut bad = Some("call me".to_owned());
        phone(&mut errors, "bad", &mut bad);
        assert!(errors.get("ok").is_none() && errors.get("empty").is_none());
        assert_eq!(empty, None);
        assert!(errors.get("bad").is_some());
    }
}
