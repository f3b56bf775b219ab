package ward
import rego.v1

nums := numbers.range(1, 20)
deny contains msg if {
  count([n | some n in nums; n % 3 == 0]) > 100
  msg := sprintf("%03d %v %s", [1, nums, "x"])
}
deny contains msg if {
  regex.match(`^pkg:npm/.*`, input.package.purl)
  parts := split(input.package.version, ".")
  to_number(parts[0]) > 9
  msg := concat("/", array.concat(parts, ["x"]))
}
deny contains msg if {
  v := json.unmarshal("{\"a\": [1, 2, {\"b\": null}]}")
  object.get(v, "a", []) == []
  msg := base64.encode(hex.encode("x"))
}
