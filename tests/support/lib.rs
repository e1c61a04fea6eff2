//! Helpers shared by the integration tests: real documents built in code,
//! multipart bodies, tokens, temp dirs, and moto set-up.

pub mod fixtures;
pub mod moto;
pub mod pg;
