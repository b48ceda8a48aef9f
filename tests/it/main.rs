//! The one integration test binary: a module per part of the kit.

mod signature;
mod agreement;
mod fixtures;
mod schema;
mod spec;
mod validate;
mod report;
mod harness;
mod tls;
mod cli;
mod fuzz;
mod docs;
