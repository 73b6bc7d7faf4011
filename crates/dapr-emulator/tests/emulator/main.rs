//! Integration tests of the Dapr emulator against the contract (`shared/dapr-contract.md`).
//!
//! One test binary (modules below) so the crate links its dependencies once. The event-path
//! tests in `delivery` and `publish` that the product relies on also run against a real daprd on
//! a real Kafka (`sidecar`), so the emulator cannot drift from the sidecar it stands in for.

mod delivery;
mod helpers;
mod publish;
mod sidecar;
