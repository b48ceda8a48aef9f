//! Reading one member of a body object the way the schemas read it: absent and `null`
//! are told apart, and anything but a string where a string belongs is a [`Rule::String`]
//! error.

use serde_json::{Map, Value};

use super::{error::describe_value, join_pointer, Rule, SpecError};

/// One string member of an object, as found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringMember<'v> {
    /// The member is not there.
    Absent,
    /// The member is an explicit `null`.
    Null,
    /// The member is a string.
    Present(&'v str),
    /// The member has another type; the error is recorded.
    WrongType,
}

impl<'v> StringMember<'v> {
    /// Reads `name` from `object`; a non-string records a [`Rule::String`] error at
    /// `parent/name`.
    pub fn read(
        object: &'v Map<String, Value>,
        parent: &str,
        name: &str,
        errors: &mut Vec<SpecError>,
    ) -> StringMember<'v> {
        match object.get(name) {
            None => StringMember::Absent,
            Some(Value::Null) => StringMember::Null,
            Some(Value::String(s)) => StringMember::Present(s),
            Some(other) => {
                errors.push(SpecError::WrongType {
                    pointer: join_pointer(parent, name),
                    rule: Rule::String,
                    expected: "a string",
                    found: describe_value(other),
                });
                StringMember::WrongType
            }
        }
    }

    /// The string, if the member is one.
    pub fn as_str(self) -> Option<&'v str> {
        match self {
            StringMember::Present(s) => Some(s),
            _ => None,
        }
    }
}

/// The value as an object; else a [`Rule::Object`] error at `pointer`.
pub fn object_at<'v>(
    value: &'v Value,
    pointer: &str,
    errors: &mut Vec<SpecError>,
) -> Option<&'v Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        other => {
            errors.push(SpecError::WrongType {
                pointer: pointer.to_owned(),
                rule: Rule::Object,
                expected: "an object",
                found: describe_value(other),
            });
            None
        }
    }
}

/// Parses bytes as one JSON document; the error is [`SpecError::NotJson`].
///
/// # Errors
/// [`SpecError::NotJson`] with serde_json's line, column and message.
pub fn parse_json(bytes: &[u8]) -> Result<Value, SpecError> {
    serde_json::from_slice(bytes).map_err(|e| SpecError::NotJson {
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}

/// Parses a present string member with `parse`; the error is recorded.
pub fn checked<T>(
    member: StringMember<'_>,
    pointer: &str,
    parse: fn(&str, &str) -> Result<T, SpecError>,
    errors: &mut Vec<SpecError>,
) -> Option<T> {
    let s = member.as_str()?;
    parse(s, pointer).map_err(|e| errors.push(e)).ok()
}
