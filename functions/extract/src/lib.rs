//! The extract stage: a classified document's text in, career facts with
//! provenance out, merged into the user's knowledge graph.

pub mod corpus;
pub mod corpus_eval;
pub mod eval;
mod handler;

pub use handler::{ExtractError, ExtractReport, ExtractService};
