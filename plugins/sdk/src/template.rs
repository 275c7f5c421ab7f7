//! Message templates: `${Name}` placeholders filled from the session.
//!
//! A placeholder names a session variable (`${order_id}`) or one of the values kefu
//! puts in every session under TCCC's names:
//!
//! | placeholder | value |
//! |---|---|
//! | `${WaitNo}` | sessions queued ahead of this one |
//! | `${StaffNo}` | the serving agent's number |
//! | `${StaffNickName}` | the serving agent's nickname |
//! | `${ClientAppID}` | the channel's IM `SDKAppID` |
//! | `${ClientAppName}` | the channel's name |
//! | `${SystemClientUserID}` | the end user's id on the channel |
//! | `${SystemClientNickName}` | the end user's nickname |
//!
//! kefu sets the first five as session variables when it knows them;
//! `${SystemClientUserID}` and `${SystemClientNickName}` always come from the session.
//! A string value is inserted as it is, `null` as nothing, any other value as its JSON
//! text. A placeholder with no value is replaced by nothing, so a user never sees
//! `${…}`. `$${` writes a literal `${`.

use crate::Input;

/// The longest placeholder name.
const MAX_NAME: usize = 64;

/// Fills the `${Name}` placeholders of `template` with what `lookup` answers for each
/// name (nothing when it answers `None`).
pub fn render(template: &str, mut lookup: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
            continue;
        }
        let name = tail
            .strip_prefix("${")
            .and_then(|t| t.find('}').map(|end| &t[..end]))
            .filter(|name| is_name(name));
        match name {
            Some(name) => {
                if let Some(value) = lookup(name) {
                    out.push_str(&value);
                }
                rest = &tail[name.len() + 3..];
            }
            None => {
                out.push('$');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The names of the placeholders in `template`, in order, each once.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    render(template, |name| {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
        None
    });
    names
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// A variable's JSON value as message text: strings without quotes, `null` as nothing.
pub fn value_text(json: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Null) => String::new(),
        Ok(other) => other.to_string(),
        Err(_) => json.to_owned(),
    }
}

impl<C> Input<C> {
    /// Fills `template` from this session: [`render`] with the session's variables and
    /// the built-in placeholders.
    pub fn render(&self, template: &str) -> String {
        self.render_with(template, &[])
    }

    /// Like [`Input::render`], with `extra` values that take precedence (a module's own
    /// figures, e.g. `WaitNo` from a queue it just looked at).
    pub fn render_with(&self, template: &str, extra: &[(&str, String)]) -> String {
        render(template, |name| {
            if let Some((_, value)) = extra.iter().find(|(n, _)| *n == name) {
                return Some(value.clone());
            }
            match name {
                "SystemClientUserID" => return Some(self.session().user_id.clone()),
                "SystemClientNickName" => return Some(self.session().user_nickname.clone()),
                _ => {}
            }
            self.variable_json(name).map(value_text)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "WaitNo" => Some("3".into()),
            "name" => Some("小王".into()),
            _ => None,
        }
    }

    #[test]
    fn fills_known_and_blanks_unknown_placeholders() {
        assert_eq!(
            render("您好${name}，前面还有${WaitNo}人。${Nope}", vars),
            "您好小王，前面还有3人。"
        );
    }

    #[test]
    fn leaves_what_is_not_a_placeholder() {
        assert_eq!(render("cost $5, ${ unclosed", vars), "cost $5, ${ unclosed");
        assert_eq!(render("${}${a b}", vars), "${}${a b}");
        assert_eq!(render("$${name} is ${name}", vars), "${name} is 小王");
        assert_eq!(render("ends with $", vars), "ends with $");
    }

    #[test]
    fn lists_placeholders_once_in_order() {
        assert_eq!(placeholders("${b}${a}${b}"), ["b", "a"]);
    }

    #[test]
    fn renders_variable_values_as_text() {
        assert_eq!(value_text("\"x\""), "x");
        assert_eq!(value_text("null"), "");
        assert_eq!(value_text("12.5"), "12.5");
        assert_eq!(value_text("[1,2]"), "[1,2]");
    }
}
