
mod signature;
mod report;
