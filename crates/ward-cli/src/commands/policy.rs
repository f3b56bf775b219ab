//! `ward policy check` and `ward policy explain`.

use super::{Usage, or_usage, policy_invalid};
use crate::args::PolicyCommand;
use crate::output;
use ward_core::PackageId;
use ward_policy::Policy;

pub(super) fn run(cmd: PolicyCommand) -> u8 {
    or_usage(|| match cmd {
        PolicyCommand::Check { file } => {
            let policy = Policy::load(&file).map_err(policy_invalid)?;
            output::policy_ok(&policy, crate::clock::now()?);
            Ok(crate::EXIT_ALLOW)
        }
        PolicyCommand::Explain { file, purl } => {
            let policy = Policy::load(&file).map_err(policy_invalid)?;
            let id: PackageId = purl.parse().map_err(|e| Usage(format!("{purl}: {e}")))?;
            output::policy_explain(&policy, &id);
            Ok(crate::EXIT_ALLOW)
        }
    })
}
