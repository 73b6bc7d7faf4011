//! Web Push (spec: "Web Push"): reminders and the daily plan sent to the browsers users
//! registered with the backend, even when no tab is open.
//!
//! - [`crypto`]: message encryption (RFC 8291) and VAPID tokens (RFC 8292).
//! - [`sender`]: the delivery loop over the `push_delivery` queue a database trigger fills.

pub mod crypto;
pub mod sender;
