//! The embed stage: chunks a document's extracted text, embeds the chunks with
//! all-MiniLM-L6-v2 (through the `TextEmbedder` port, with a per-user cache),
//! writes them to the user's vector store and emits `knowledge.updated`.

mod handler;

pub use handler::{EmbedError, EmbedService, MessageOutcome};
