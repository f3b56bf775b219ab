package ward
import rego.v1

f(x) := y if { y := f(x) }
deny contains msg if { f(1) == 2; msg := "x" }
