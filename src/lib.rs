//! hardbase compiles declarative TOML hardening profiles for ATMs, unattended
//! terminals, the servers they talk to and the network devices between them
//! into the artefacts that harden those machines, and reports drift.
//!
//! The modules follow the data flow:
//!
//! * [`source`] and [`diag`]: the files read and the problems found in them;
//! * [`load`]: TOML text → spanned trees → raw profile layers;
//! * [`catalog`]: the control catalog (built in, overridable);
//! * [`resolve`]: profile → layers → role baseline → [`model::DesiredState`];
//! * [`report`]: what people read (check, explain, list, checklist, schema);
//! * [`app`]: the one place the stages are wired and files are written.

#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod diag;
pub mod drift;
pub mod import;
pub mod live;
pub mod load;
pub mod model;
pub mod output;
pub mod report;
pub mod resolve;
pub mod sign;
pub mod snapshot;
pub mod source;
pub mod target;
pub mod verify;
pub mod xlsx;
