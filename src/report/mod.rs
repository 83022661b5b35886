//! What people and pipelines read: check summaries, explanations, lists, the schema, the checklist
//! and the flow matrix.
//!
//! Every function here is pure: it takes the model and returns text or bytes.
//! Writing them anywhere is the app's job.

pub mod check;
pub mod checklist;
pub mod coverage;
pub mod drift;
pub mod explain;
pub mod flows;
pub mod junit;
pub mod list;
pub mod sarif;
pub mod schema;
