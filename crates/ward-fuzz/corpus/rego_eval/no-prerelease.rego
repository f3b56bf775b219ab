# Pre-release versions (1.2.3-beta.1) are for testing, not for production installs.
package ward

import rego.v1

deny contains msg if {
	input.artifact.ecosystem == "npm"
	contains(input.artifact.version, "-")
	msg := sprintf("%s is a pre-release; production installs take releases only", [input.artifact.purl])
}
