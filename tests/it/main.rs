//! The one integration test binary: a module per part of the kit.

mod agreement;
mod catalogue_files;
mod cli;
mod common;
mod docs;
mod fixtures;
mod fuzz;
mod fuzz_draw;
mod golden;
mod harness;
mod html;
mod ids;
mod layers;
mod newcomer;
mod openapi;
mod proxy;
mod report;
mod robust;
mod schema;
mod serve;
mod shard;
mod signature;
mod spec;
mod styles;
mod tls;
mod validate;
