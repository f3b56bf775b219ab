//! `ward reasons`: every reason code with its meaning.

use crate::args::ReasonsArgs;
use crate::output;

pub(super) fn run(args: ReasonsArgs) -> u8 {
    output::reason_codes(args.format);
    crate::EXIT_ALLOW
}
