//! Integration tests of the Dapr emulator against the contract (`shared/dapr-contract.md`).
//!
//! One test binary (modules below) so the crate links its dependencies once.

mod delivery;
mod helpers;
mod publish;
