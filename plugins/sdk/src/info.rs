//! Building what a module says about itself.

use crate::{ExitInfo, ModuleInfo, Value};

impl ModuleInfo {
    /// A module called `name` (lower-case letters, digits and dashes) at semantic
    /// version `version`, with no description, no exits and the configuration schema
    /// `{"type": "object"}` until the builder methods below say otherwise.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            description: String::new(),
            config_schema: r#"{"type":"object"}"#.to_owned(),
            exits: Vec::new(),
        }
    }

    /// Sets the description the flow editor shows.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the JSON Schema of the node configuration, e.g. built with [`json!`](crate::json).
    pub fn config_schema(mut self, schema: Value) -> Self {
        self.config_schema = schema.to_string();
        self
    }

    /// Sets the JSON Schema of the node configuration to the one derived from `C`
    /// (`#[derive(JsonSchema)]` beside `Deserialize`), so that the schema the flow
    /// editor shows and what the module accepts cannot drift apart.
    pub fn config_schema_of<C: schemars::JsonSchema>(mut self) -> Self {
        self.config_schema = schemars::schema_for!(C).as_value().to_string();
        self
    }

    /// Adds every exit of an [`Exits`](crate::Exits) type, declared once with
    /// [`exits!`](crate::exits).
    pub fn exits<E: crate::Exits>(mut self) -> Self {
        self.exits.extend(E::all());
        self
    }

    /// Adds an exit the module can leave by (see [`Output::exit`](crate::Output::exit)).
    pub fn exit(mut self, name: impl Into<String>, description: impl Into<String>) -> Self {
        self.exits.push(ExitInfo {
            name: name.into(),
            description: description.into(),
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn builds_module_info() {
        let info = ModuleInfo::new("echo", "0.1.0")
            .description("Echoes")
            .config_schema(json!({"type": "object", "properties": {}}))
            .exit("next", "done");
        assert_eq!(info.name, "echo");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.description, "Echoes");
        assert_eq!(info.config_schema, r#"{"properties":{},"type":"object"}"#);
        assert_eq!(info.exits.len(), 1);
        assert_eq!(info.exits[0].name, "next");
    }
}
