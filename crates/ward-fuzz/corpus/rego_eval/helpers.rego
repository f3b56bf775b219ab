package ward
import rego.v1

allowed := {"a", "b"}

deny contains msg if {
  some x in input.facts
  not x.kind in allowed
  msg := sprintf("bad %v", [x.kind])
}

f(x) := y if { y := x + 1 }
