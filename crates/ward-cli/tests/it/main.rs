//! ward's end-to-end tests: one binary, one module per area. Each test runs
//! the real `ward` executable in a temporary directory; nothing touches the
//! network.

mod archives;
mod bundles;
mod common;
mod conformance;
mod docs;
mod keys;
