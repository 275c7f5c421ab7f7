//! The error answers every operation shares, derived from what the operation declares
//! instead of being repeated on each handler: a security requirement can answer 401
//! (and 403 when it names a role), a JSON body 400, 413, 415 and 422, a path parameter
//! 404, query parameters 422. Each is a reusable response under `components` with the
//! codes it carries; an operation keeps whatever it says itself about a status (a 409's
//! codes, a 422 `flow_invalid`) and only gains the statuses it did not list.

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::AdditionalProperties;
use utoipa::openapi::{
    Content, HeaderBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder, Schema,
    Type,
};

/// A shared error answer: its status, the name it has under `components/responses`,
/// and what it means.
struct Common {
    status: &'static str,
    name: &'static str,
    description: &'static str,
}

const BAD_REQUEST: Common = Common {
    status: "400",
    name: "BadRequest",
    description: "`invalid_json`: the body is not JSON; `invalid_body`: it could not be read",
};
const UNAUTHORIZED: Common = Common {
    status: "401",
    name: "Unauthorized",
    description: "`missing_token`, `invalid_token`, `token_expired` or `token_revoked`: \
                  sign in (again)",
};
const FORBIDDEN: Common = Common {
    status: "403",
    name: "Forbidden",
    description: "`forbidden`: the caller's role is below the one this operation needs",
};
const NOT_FOUND: Common = Common {
    status: "404",
    name: "NotFound",
    description: "`not_found`: nothing with this id in the caller's tenant that the caller \
                  may see (an id that is not a UUID names nothing either)",
};
const TOO_LARGE: Common = Common {
    status: "413",
    name: "PayloadTooLarge",
    description: "`payload_too_large`: the body is over the server's limit",
};
const MEDIA_TYPE: Common = Common {
    status: "415",
    name: "UnsupportedMediaType",
    description: "`unsupported_media_type`: the body's `Content-Type` is not the one \
                  documented",
};
const INVALID: Common = Common {
    status: "422",
    name: "ValidationFailed",
    description: "`validation_failed`: `fields` names each field or parameter that is \
                  wrong, with why",
};

const ALL: [&Common; 7] = [
    &BAD_REQUEST,
    &UNAUTHORIZED,
    &FORBIDDEN,
    &NOT_FOUND,
    &TOO_LARGE,
    &MEDIA_TYPE,
    &INVALID,
];

/// Tagged enums read with `deny_unknown_fields`: utoipa does not carry that to their
/// variants, whose schemas would otherwise admit any other member.
const CLOSED_ENUMS: [&str; 4] = ["DryTrigger", "AgentElement", "SetStatus", "TryInput"];

/// Adds the shared error answers to every operation that can give them.
pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for common in ALL {
            components
                .responses
                .insert(common.name.to_owned(), RefOr::T(error_response(common)));
        }
        for name in CLOSED_ENUMS {
            if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(name) {
                for variant in &mut one_of.items {
                    if let RefOr::T(Schema::Object(object)) = variant {
                        object.additional_properties =
                            Some(Box::new(AdditionalProperties::FreeForm(false)));
                    }
                }
            }
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                complete(operation);
            }
        }
    }
}

fn complete(operation: &mut Operation) {
    let mut statuses: Vec<&Common> = Vec::new();
    if let Some(role) = least_role(operation) {
        statuses.push(&UNAUTHORIZED);
        if role.is_some() {
            statuses.push(&FORBIDDEN);
        }
    }
    let parameters = operation.parameters.iter().flatten();
    let (mut in_path, mut in_query) = (false, false);
    for p in parameters {
        if let RefOr::T(p) = p {
            in_path |= p.parameter_in == ParameterIn::Path;
            in_query |= p.parameter_in == ParameterIn::Query;
        }
    }
    if in_path {
        statuses.push(&NOT_FOUND);
    }
    if let Some(RefOr::T(body)) = &operation.request_body {
        statuses.extend([&BAD_REQUEST, &TOO_LARGE, &MEDIA_TYPE]);
        if body.content.contains_key("application/json") {
            statuses.push(&INVALID);
        }
    }
    if in_query {
        statuses.push(&INVALID);
    }
    let responses = &mut operation.responses.responses;
    for common in statuses {
        let said = match responses.get(common.status) {
            None => None,
            Some(RefOr::T(r)) => Some(r.description.trim()),
            Some(RefOr::Ref(_)) => continue,
        };
        match said {
            // The operation's own words about this status stand; the shared headers join.
            Some(own) if !own.is_empty() => {
                if let Some(RefOr::T(r)) = responses.get_mut(common.status) {
                    add_headers(common, r);
                }
            }
            _ => {
                responses.insert(
                    common.status.to_owned(),
                    RefOr::Ref(Ref::new(format!("#/components/responses/{}", common.name))),
                );
            }
        }
    }
    // Throttled and busy answers say when to come back, whoever listed them.
    for status in ["429", "503"] {
        if let Some(RefOr::T(r)) = responses.get_mut(status) {
            r.headers
                .entry("Retry-After".to_owned())
                .or_insert(RefOr::T(
                    HeaderBuilder::new()
                        .schema(Some(integer()))
                        .description(Some("Seconds to wait before trying again"))
                        .build(),
                ));
        }
    }
}

/// `None` for a public operation; `Some(None)` for any signed-in account;
/// `Some(Some(role))` when it names the least role it needs.
fn least_role(operation: &Operation) -> Option<Option<String>> {
    let requirements = operation.security.as_ref()?;
    // The requirement's fields are private; its JSON form is the documented one.
    let value = serde_json::to_value(requirements).ok()?;
    let scopes = value
        .as_array()?
        .iter()
        .find_map(|r| r.get("bearer"))?
        .as_array()?;
    Some(scopes.first().and_then(|s| s.as_str()).map(str::to_owned))
}

fn error_response(common: &Common) -> Response {
    let mut response = ResponseBuilder::new()
        .description(common.description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build();
    add_headers(common, &mut response);
    response
}

fn add_headers(common: &Common, response: &mut Response) {
    if common.status == UNAUTHORIZED.status {
        response
            .headers
            .entry("WWW-Authenticate".to_owned())
            .or_insert(RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(string()))
                    .description(Some("`Bearer`"))
                    .build(),
            ));
    }
}

fn integer() -> Schema {
    ObjectBuilder::new().schema_type(Type::Integer).into()
}

fn string() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).into()
}
