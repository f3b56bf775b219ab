//! `ward completions SHELL` and `ward man --out DIR`: generated from the
//! clap definitions, so each names every subcommand ward has.

use crate::common::TestContext;

/// The top-level subcommands, from the same clap definition as the binary.
fn top_level() -> Vec<String> {
    let names: Vec<String> = ward_cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect();
    assert!(names.len() > 10, "{names:?}");
    names
}

#[test]
fn completions_for_every_shell_name_every_top_level_subcommand() {
    let ctx = TestContext::new();
    let names = top_level();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = ctx.ward(["completions", shell]);
        run.expect(0);
        assert!(run.stdout.len() > 1000, "{shell}: {}", run.all());
        for name in &names {
            assert!(run.stdout.contains(name.as_str()), "{shell} completions miss {name}");
        }
    }
    // fish lists each subcommand with its description: a line per command.
    let fish = ctx.ward(["completions", "fish"]);
    for name in &names {
        assert!(
            fish.stdout.contains(&format!("-f -a \"{name}\"")),
            "fish completions offer no {name}"
        );
    }
    ctx.ward(["completions", "no-such-shell"]).expect(2);
}

#[test]
fn man_pages_cover_ward_and_every_subcommand() {
    let ctx = TestContext::new();
    let out = ctx.path("man/man1");
    let run = ctx.ward(["man", "--out", out.to_str().unwrap()]);
    run.expect(0);
    let page = std::fs::read_to_string(out.join("ward.1")).unwrap();
    assert!(page.starts_with(".ie") || page.contains(".TH ward 1"), "{page}");
    for name in top_level() {
        // ward.1 refers to each page, and each page exists and is a man page.
        assert!(
            page.contains(&format!("ward\\-{}(1)", name.replace('-', "\\-"))),
            "ward.1 misses {name}"
        );
        let sub = std::fs::read_to_string(out.join(format!("ward-{name}.1")))
            .unwrap_or_else(|e| panic!("ward-{name}.1: {e}\n{}", run.all()));
        assert!(sub.contains(".TH"), "ward-{name}.1: {sub}");
    }
    // Nested subcommands have pages of their own.
    assert!(out.join("ward-ledger-show.1").is_file());
    assert!(run.stdout.contains("ward-verify.1"), "{}", run.stdout);
}
