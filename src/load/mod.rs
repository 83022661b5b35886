//! Loading: TOML text into spanned trees, and profile files into raw layers.

pub mod document;
pub mod profile;
