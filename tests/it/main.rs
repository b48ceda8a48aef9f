
mod signature;
mod agreement;
mod fixtures;
mod schema;
mod spec;
mod validate;
mod report;
