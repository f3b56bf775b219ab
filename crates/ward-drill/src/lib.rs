//! Attack drills: real supply-chain incidents, replayed against a team's own
//! policy with the real package manager.
//!
//! A [`Scenario`] (TOML, shipped under `drills/`) names the clean releases
//! around an incident and describes the compromised release by its traits
//! (an added install script, a new dependency, a `.pth` file, another
//! publisher, other bytes under the same version, a typo-squatted name, …).
//! [`standin`] builds an **inert** stand-in with those traits at run time:
//! its only action is to write a marker file inside the drill's own
//! temporary directory. [`upstream`] lays the releases out as a registry
//! directory the proxy reads, as they stood at one moment of the timeline.
//! [`run`] drives the `ward` executable through the timeline (baseline
//! install, the compromised install, detection after the advisory) with a
//! pinned clock and a data directory and ledger of its own, and [`report`]
//! turns the outcomes into a table, JSON and a self-contained HTML page.
//!
//! Nothing here reaches past 127.0.0.1: the upstream is a directory, and
//! the package manager talks only to `ward run`'s loopback proxy.

pub mod report;
pub mod run;
pub mod scenario;
pub mod shipped;
pub mod standin;
pub mod upstream;

pub use report::{DrillReport, Outcome, ScenarioResult};
pub use run::{Drill, DrillError};
pub use scenario::{Ecosystem, Release, Scenario, ScenarioError, StandIn};
