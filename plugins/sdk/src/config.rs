//! Reading a node configuration into the module's `Config` type.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::{ConfigProblem, Error};

/// The configuration of a module that takes none: accepts `{}` (or a blank
/// configuration) and refuses any field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

/// Deserializes a node configuration. A blank configuration reads as `{}`, so that a
/// `Config` whose fields all have defaults accepts it. A refusal names the offending
/// value by its JSON pointer.
pub(crate) fn parse<C: DeserializeOwned>(json: &str) -> Result<C, Error> {
    let text = if json.trim().is_empty() { "{}" } else { json };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let config = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = pointer(err.path());
        Error::invalid_config([ConfigProblem::new(path, message(err.inner()))])
    })?;
    deserializer
        .end()
        .map_err(|err| Error::invalid_config([ConfigProblem::new("", message(&err))]))?;
    Ok(config)
}

/// The JSON pointer (RFC 6901) of a path: `/choices/2/label`, or empty for the whole.
fn pointer(path: &serde_path_to_error::Path) -> String {
    let mut pointer = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            Segment::Map { key } => push_token(&mut pointer, key),
            Segment::Enum { variant } => push_token(&mut pointer, variant),
            Segment::Unknown => break,
        }
    }
    pointer
}

fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    pointer.push_str(&token.replace('~', "~0").replace('/', "~1"));
}

/// serde's message without the line and column: the pointer says where.
fn message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    if err.line() == 0 {
        return text;
    }
    let position = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&position) {
        Some(message) => message.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Menu {
        title: String,
        #[serde(default)]
        choices: Vec<Choice>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Choice {
        id: String,
        label: String,
    }

    fn problem(json: &str) -> (String, String) {
        let err = parse::<Menu>(json).unwrap_err();
        let problems = err.problems();
        assert_eq!(problems.len(), 1, "{err}");
        (problems[0].path.clone(), problems[0].message.clone())
    }

    #[test]
    fn reports_the_pointer_of_a_nested_value() {
        let (path, message) =
            problem(r#"{"title":"t","choices":[{"id":"a","label":"A"},{"id":"b","label":7}]}"#);
        assert_eq!(path, "/choices/1/label");
        assert_eq!(message, "invalid type: integer `7`, expected a string");
    }

    #[test]
    fn reports_missing_fields_on_their_object_and_unknown_ones_on_themselves() {
        assert_eq!(problem(r#"{}"#).0, "");
        assert!(problem(r#"{}"#).1.contains("missing field `title`"));
        let (path, message) = problem(r#"{"title":"t","colour":1}"#);
        assert_eq!(path, "/colour");
        assert!(message.contains("unknown field `colour`"), "{message}");
    }

    #[test]
    fn escapes_pointer_tokens() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Labels {
            labels: std::collections::BTreeMap<String, u8>,
        }
        let err = parse::<Labels>(r#"{"labels":{"a/b~c":"x"}}"#).unwrap_err();
        assert_eq!(err.problems()[0].path, "/labels/a~1b~0c");
    }

    #[test]
    fn blank_reads_as_an_empty_object() {
        assert_eq!(parse::<NoConfig>("").unwrap(), NoConfig {});
        assert_eq!(parse::<NoConfig>(" {} ").unwrap(), NoConfig {});
        assert!(parse::<NoConfig>(r#"{"x":1}"#).is_err());
    }

    #[test]
    fn refuses_trailing_text() {
        let err = parse::<NoConfig>("{} {}").unwrap_err();
        assert_eq!(err.problems()[0].path, "");
        assert_eq!(err.problems()[0].message, "trailing characters");
    }
}
