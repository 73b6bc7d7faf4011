//! Domain types that cannot hold invalid values. Each request DTO is parsed into these at the
//! edge; everything behind the handlers takes only parsed types.

pub mod account;
pub mod advice_kind;
pub mod list_query;
pub mod name;
pub mod origin;
pub mod position;
pub mod project;
pub mod quick_add;
pub mod recurrence;
pub mod task;
pub mod time_zone;
pub mod working_hours;

pub use events::Priority;

/// One problem with one input field, as reported in a validation problem response.
/// `field` is the JSON path of the field as the client sent it (`title`, `recurrence.interval`,
/// `tags[3]`), so a UI can put the message next to the right control.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}
