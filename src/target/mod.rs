//! Emitters: the desired state turned into the files each platform consumes.

pub mod windows;
