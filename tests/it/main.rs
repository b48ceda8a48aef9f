
mod signature;
