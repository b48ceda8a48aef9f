//! The one integration test binary: a module per part of the kit.

mod agreement;
mod cli;
mod docs;
mod fixtures;
mod fuzz;
mod harness;
mod openapi;
mod report;
mod schema;
mod serve;
mod signature;
mod spec;
mod tls;
mod validate;
