//! Checks of namespace requests, shared by every backend.

use super::{blob, id_string};
use crate::error::Result;
use crate::namespace::{RenameNamespaceRequest, UpdateNamespaceRequest};

/// An update: id set, name 1..=255 bytes without NUL, a storable detail blob.
pub fn update(req: &UpdateNamespaceRequest) -> Result<()> {
    req.id.validate()?;
    id_string("namespace name", &req.name)?;
    blob("namespace detail", &req.detail)
}

/// A rename: the update under the new name, and a well-formed previous name.
pub fn rename(req: &RenameNamespaceRequest) -> Result<()> {
    id_string("previous namespace name", &req.previous_name)?;
    req.update.id.validate()?;
    id_string("new namespace name", &req.update.name)?;
    blob("namespace detail", &req.update.detail)
}
