//! ward's end-to-end tests: one binary, one module per area. Each test runs
//! the real `ward` executable in a `common::TestContext` of its own (data
//! directory, ledger, home, clean environment, optionally a pinned clock);
//! nothing touches the network.
//!
//! To start `ward proxy`, use `ctx.proxy(ProxyOptions::new()...)` (upstreams,
//! policy, cache, clock, environment: `common/proxy.rs`); for an upstream
//! registry, feed or webhook on 127.0.0.1, use `common::FakeRegistry`
//! (`common/upstream.rs`). A test about expiry pins the clock
//! (`TestContext::at`, `ward_at`, `ProxyOptions::at`), never reads today's date.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adversarial;
mod advisories;
mod archives;
mod archives_differential;
mod attestations;
mod audit;
mod bundles;
mod common;
mod completions;
mod conformance;
mod diagnostics;
mod docs;
mod drill;
mod hardware_policy;
mod init;
mod key_lifetimes;
mod keys;
mod ledger;
mod malicious;
mod pkcs11;
mod policy;
mod proxy;
mod proxy_faults;
mod publish;
mod rebuild;
mod recovery;
mod rego_limits;
mod release_rules;
mod risky;
mod scan;
mod scan_policy;
mod slsa_verifier;
mod snapshots;
mod trust;
mod watch;
