//! The outcome rules (`docs/contract.md#outcome-rules`), one function per check.
