# Every verified provenance statement must name the exact source commit:
# a build from "whatever main was at the time" cannot be reproduced or audited.
package ward

import rego.v1

deny contains msg if {
	some fact in input.facts
	fact.type == "provenance"
	not fact.source_commit
	msg := sprintf("provenance in %s does not name a source commit", [fact.evidence])
}
