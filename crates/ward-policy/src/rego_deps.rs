//! The dependency graph of a policy's Rego rules and functions, built at
//! load to refuse what evaluation could not survive.
//!
//! regorus 0.14 detects a recursive *rule* while evaluating it, but not a
//! recursive *function*: `f(x) := y if { y := f(x) }` recurses until the
//! stack overflows and the process aborts. OPA refuses both at compile time
//! (`rego_recursion_error`); ward does the same when it loads the policy,
//! and also bounds how deeply rules and functions may call one another, so
//! that evaluation's stack use is bounded too.
//!
//! The graph over-approximates, as OPA's does: a reference to a path (a rule
//! by name, `data.pkg.rule`, `data.pkg`, `data[x]`) depends on every rule
//! the path could reach, and a local variable that shares a rule's name
//! counts as a reference to that rule. Nothing here recurses on the AST or
//! the graph: both are walked with explicit stacks.

use regorus::Value;
use regorus::unstable::{Expr, Literal, Module, Query, Ref, Rule, RuleHead};
use std::collections::HashMap;

/// How many nested calls of rules and functions a policy may make
/// (`deny` → `f` → `g` is two). Deeper chains are refused at load.
pub const MAX_CALL_DEPTH: usize = 64;

/// A path of static components, `["data", "ward", "deny"]`.
type Path = Vec<String>;

/// Where a rule was first defined, for messages.
#[derive(Clone, Debug)]
struct Place {
    file: String,
    line: u32,
}

#[derive(Default)]
struct Graph {
    /// Node ids by kind and path: the rule at a path ([`RULE`]), or
    /// everything defined at or under a path ([`COVER`]), which leads to the
    /// rule there and to the `COVER` nodes one component longer.
    ids: HashMap<(bool, Path), usize>,
    nodes: Vec<Node>,
}

struct Node {
    path: Path,
    /// Where the rule was first defined; `None` for `COVER` nodes.
    place: Option<Place>,
    /// Out-edges: (target, calls), where calls is 1 for a reference from a
    /// rule's body and 0 for the edges that only say what a path covers.
    edges: Vec<(usize, usize)>,
}

const RULE: bool = true;
const COVER: bool = false;

impl Graph {
    fn node(&mut self, kind: bool, path: &Path) -> usize {
        if let Some(&id) = self.ids.get(&(kind, path.clone())) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            path: path.clone(),
            place: None,
            edges: Vec::new(),
        });
        self.ids.insert((kind, path.clone()), id);
        id
    }

    fn get(&self, kind: bool, path: &Path) -> Option<usize> {
        self.ids.get(&(kind, path.clone())).copied()
    }

    /// Adds a rule: a `Rule` node, and `Cover` nodes for each of its
    /// prefixes leading down to it.
    fn add_rule(&mut self, path: &Path, place: Place) -> usize {
        let rule = self.node(RULE, path);
        if self.nodes[rule].place.is_none() {
            self.nodes[rule].place = Some(place);
            let own = self.node(COVER, path);
            self.nodes[own].edges.push((rule, 0));
            let mut child = own;
            for len in (1..path.len()).rev() {
                let parent = self.node(COVER, &path[..len].to_vec());
                if !self.nodes[parent].edges.contains(&(child, 0)) {
                    self.nodes[parent].edges.push((child, 0));
                }
                child = parent;
            }
        }
        rule
    }
}

/// Checks the loaded modules: no recursion, no call chain deeper than
/// [`MAX_CALL_DEPTH`]. The error names the file and line of a rule involved.
pub(crate) fn check(modules: &[Ref<Module>]) -> Result<(), String> {
    let mut graph = Graph::default();
    // First every rule, so references can be resolved against all of them.
    let mut rules = Vec::new();
    for module in modules {
        let package = package_path(module);
        for rule in &module.policy {
            let (refr, span) = match rule.as_ref() {
                Rule::Spec { head, span, .. } => (head_ref(head), span),
                Rule::Default { refr, span, .. } => (refr, span),
            };
            let mut path = package.clone();
            path.extend(static_prefix(refr));
            let place = Place {
                file: span.source.file().clone(),
                line: span.line,
            };
            let id = graph.add_rule(&path, place);
            rules.push((module.clone(), rule.clone(), id));
        }
    }
    for (module, rule, id) in &rules {
        let scope = Scope::new(module);
        let mut refs = Vec::new();
        references(rule, &scope, &mut refs);
        refs.sort();
        refs.dedup();
        for path in refs {
            let mut targets = Vec::new();
            if let Some(cover) = graph.get(COVER, &path) {
                targets.push(cover);
            }
            for len in 1..path.len() {
                if let Some(r) = graph.get(RULE, &path[..len].to_vec()) {
                    targets.push(r);
                }
            }
            for t in targets {
                graph.nodes[*id].edges.push((t, 1));
            }
        }
    }
    let roots: Vec<usize> = rules.iter().map(|(_, _, id)| *id).collect();
    walk(&graph, &roots)
}

/// Depth-first search from each root with an explicit stack: a back edge is
/// recursion; the longest weighted path is the call depth.
fn walk(graph: &Graph, roots: &[usize]) -> Result<(), String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; graph.nodes.len()];
    let mut depth = vec![0usize; graph.nodes.len()];
    for &root in roots {
        if mark[root] != Mark::New {
            continue;
        }
        // (node, index of the next edge to follow)
        let mut stack = vec![(root, 0usize)];
        mark[root] = Mark::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(target, _)) = graph.nodes[node].edges.get(*next) {
                *next += 1;
                match mark[target] {
                    Mark::New => {
                        mark[target] = Mark::Open;
                        stack.push((target, 0));
                    }
                    Mark::Open => return Err(recursion(graph, &stack, target)),
                    Mark::Done => {}
                }
            } else {
                let d = graph.nodes[node]
                    .edges
                    .iter()
                    .map(|&(t, w)| depth[t] + w)
                    .max()
                    .unwrap_or(0);
                depth[node] = d;
                mark[node] = Mark::Done;
                stack.pop();
                if d > MAX_CALL_DEPTH {
                    let n = &graph.nodes[node];
                    return Err(format!(
                        "{}rules and functions call one another more than {MAX_CALL_DEPTH} deep, starting at {}",
                        at(n.place.as_ref()),
                        n.path.join(".")
                    ));
                }
            }
        }
    }
    Ok(())
}

fn recursion(graph: &Graph, stack: &[(usize, usize)], target: usize) -> String {
    let start = stack.iter().position(|&(n, _)| n == target).unwrap_or(0);
    let chain: Vec<&Node> = stack[start..]
        .iter()
        .map(|&(n, _)| &graph.nodes[n])
        .chain(std::iter::once(&graph.nodes[target]))
        .filter(|n| n.place.is_some())
        .collect();
    let first = chain.first().and_then(|n| n.place.as_ref());
    let names: Vec<String> = chain.iter().map(|n| n.path.join(".")).collect();
    let names = if names.len() <= 1 {
        format!("{} depends on itself", names.first().map_or("a rule", String::as_str))
    } else {
        names.join(" -> ")
    };
    format!("{}recursion is not allowed in Rego: {names}", at(first))
}

fn at(place: Option<&Place>) -> String {
    place.map_or(String::new(), |p| format!("{}:{}: ", p.file, p.line))
}

fn head_ref(head: &RuleHead) -> &Ref<Expr> {
    match head {
        RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } | RuleHead::Func { refr, .. } => refr,
    }
}

fn package_path(module: &Module) -> Path {
    let mut path = vec!["data".to_string()];
    path.extend(static_prefix(&module.package.refr));
    path
}

fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string()),
        _ => None,
    }
}

/// A reference chain split into its root expression and the static path
/// from the root: `a.b["c"][x].d` gives (`a`, ["a", "b", "c"]) and pushes
/// the dynamic index `x` onto `dynamic`. The path is cut at the first
/// dynamic index: what follows cannot narrow what the reference reaches.
fn split_ref<'e>(expr: &'e Ref<Expr>, dynamic: &mut Vec<&'e Ref<Expr>>) -> (&'e Ref<Expr>, Path) {
    let mut reversed = Vec::new();
    let mut cur = expr;
    loop {
        match cur.as_ref() {
            Expr::RefDot { refr, field, .. } => {
                reversed.push(string_of(&field.1));
                cur = refr;
            }
            Expr::RefBrack { refr, index, .. } => {
                match index.as_ref() {
                    Expr::String { value, .. } | Expr::RawString { value, .. } => reversed.push(string_of(value)),
                    _ => {
                        dynamic.push(index);
                        reversed.push(None);
                    }
                }
                cur = refr;
            }
            _ => break,
        }
    }
    let mut path = Vec::new();
    if let Expr::Var { value, .. } = cur.as_ref()
        && let Some(name) = string_of(value)
    {
        path.push(name);
        for component in reversed.into_iter().rev() {
            match component {
                Some(c) => path.push(c),
                None => break,
            }
        }
    }
    (cur, path)
}

/// The static path of a rule head, package or import reference.
fn static_prefix(expr: &Ref<Expr>) -> Path {
    split_ref(expr, &mut Vec::new()).1
}

/// How a module's names resolve: its package, and its `import data…` aliases.
struct Scope {
    package: Path,
    aliases: HashMap<String, Path>,
}

impl Scope {
    fn new(module: &Module) -> Self {
        let mut aliases = HashMap::new();
        for import in &module.imports {
            let path = static_prefix(&import.refr);
            if path.first().map(String::as_str) != Some("data") {
                continue;
            }
            let alias = match &import.r#as {
                Some(span) => span.text().to_string(),
                None => path.last().cloned().unwrap_or_default(),
            };
            aliases.insert(alias, path);
        }
        Self {
            package: package_path(module),
            aliases,
        }
    }

    /// The absolute path a reference starting at variable `path[0]` reaches,
    /// or `None` for `input` and other roots that cannot reach a rule.
    fn resolve(&self, path: &[String]) -> Option<Path> {
        let (root, rest) = path.split_first()?;
        let mut out = match root.as_str() {
            "data" => vec!["data".to_string()],
            "input" => return None,
            _ => match self.aliases.get(root) {
                Some(p) => p.clone(),
                None => {
                    let mut p = self.package.clone();
                    p.push(root.clone());
                    p
                }
            },
        };
        out.extend(rest.iter().cloned());
        Some(out)
    }
}

/// Every path a rule refers to, resolved to absolute paths.
fn references(rule: &Ref<Rule>, scope: &Scope, out: &mut Vec<Path>) {
    let mut exprs: Vec<&Ref<Expr>> = Vec::new();
    let mut queries: Vec<&Ref<Query>> = Vec::new();
    match rule.as_ref() {
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { refr, assign, .. } => {
                    exprs.push(refr);
                    exprs.extend(assign.as_ref().map(|a| &a.value));
                }
                RuleHead::Set { refr, key, .. } => {
                    exprs.push(refr);
                    exprs.extend(key.as_ref());
                }
                RuleHead::Func { refr, args, assign, .. } => {
                    exprs.push(refr);
                    exprs.extend(args.iter());
                    exprs.extend(assign.as_ref().map(|a| &a.value));
                }
            }
            for body in bodies {
                exprs.extend(body.assign.as_ref().map(|a| &a.value));
                queries.push(&body.query);
            }
        }
        Rule::Default { refr, args, value, .. } => {
            exprs.push(refr);
            exprs.extend(args.iter());
            exprs.push(value);
        }
    }
    // The head's own reference names the rule being defined, not a use of it;
    // only its dynamic indexes are uses.
    let own = exprs.remove(0);
    let mut dynamic = Vec::new();
    split_ref(own, &mut dynamic);
    exprs.extend(dynamic);

    loop {
        if let Some(query) = queries.pop() {
            for stmt in &query.stmts {
                for with in &stmt.with_mods {
                    exprs.push(&with.refr);
                    exprs.push(&with.r#as);
                }
                match &stmt.literal {
                    Literal::SomeVars { .. } => {}
                    Literal::SomeIn {
                        key, value, collection, ..
                    } => {
                        exprs.extend(key.as_ref());
                        exprs.push(value);
                        exprs.push(collection);
                    }
                    Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => exprs.push(expr),
                    Literal::Every { domain, query, .. } => {
                        exprs.push(domain);
                        queries.push(query);
                    }
                }
            }
            continue;
        }
        let Some(expr) = exprs.pop() else { break };
        match expr.as_ref() {
            Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. } => {}
            Expr::Var { value, .. } => {
                if let Some(name) = string_of(value)
                    && let Some(p) = scope.resolve(&[name])
                {
                    out.push(p);
                }
            }
            Expr::RefDot { .. } | Expr::RefBrack { .. } => {
                let mut dynamic = Vec::new();
                let (root, path) = split_ref(expr, &mut dynamic);
                exprs.extend(dynamic);
                if path.is_empty() {
                    exprs.push(root);
                } else if let Some(p) = scope.resolve(&path) {
                    out.push(p);
                }
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => exprs.extend(items.iter()),
            Expr::Object { fields, .. } => {
                for (_, k, v) in fields {
                    exprs.push(k);
                    exprs.push(v);
                }
            }
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                exprs.push(term);
                queries.push(query);
            }
            Expr::ObjectCompr { key, value, query, .. } => {
                exprs.push(key);
                exprs.push(value);
                queries.push(query);
            }
            Expr::Call { fcn, params, .. } => {
                exprs.push(fcn);
                exprs.extend(params.iter());
            }
            Expr::UnaryExpr { expr, .. } => exprs.push(expr),
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                exprs.push(lhs);
                exprs.push(rhs);
            }
            Expr::Membership {
                key, value, collection, ..
            } => {
                exprs.extend(key.as_ref());
                exprs.push(value);
                exprs.push(collection);
            }
        }
    }
}
