//! Keeps the layers of `ARCHITECTURE.md` honest by reading `src/`: the core never names the
//! httpd side (`ffi`, `httpd`, `shell`), `unsafe` appears only in `ffi/`, `httpd/` and `shm/`,
//! the shell reaches httpd only through the safe wrappers, the httpd layer names the shell in
//! one file only, every core root forbids unsafe code, and shell files stay small.
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level entries of `src/` that are not the core.
const SHELL_SIDE: [&str; 3] = ["ffi", "httpd", "shell"];
/// Where `unsafe` may appear.
const UNSAFE_ALLOWED: [&str; 3] = ["ffi", "httpd", "shm"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every Rust file under `src/` with its top-level entry (`shell`, `ajp`, `lib.rs`, …).
fn files() -> Vec<(String, PathBuf)> {
    let mut all = Vec::new();
    rust_files(&src(), &mut all);
    all.sort();
    all.into_iter()
        .map(|p| {
            let top = p.strip_prefix(src()).unwrap().components().next().unwrap();
            let top = top.as_os_str().to_str().unwrap().trim_end_matches(".rs");
            (top.to_string(), p)
        })
        .collect()
}

/// The code of a Rust file with comments, strings and character literals blanked out, so
/// words in them ("unsafe URI") are not mistaken for code.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            i += end;
        } else if let Some(len) = raw_string_len(rest) {
            out.push_str("\"\"");
            i += len;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if b[i] == b'\'' && is_char_literal(&b[i..]) {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'\'' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("' '");
            i = j + 1;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `r"…"`, `r#"…"#`, `br"…"`, `cr#"…"#`: the literal's length.
fn raw_string_len(s: &str) -> Option<usize> {
    let after_prefix = s
        .strip_prefix("br")
        .or_else(|| s.strip_prefix("cr"))
        .or_else(|| s.strip_prefix('r'))?;
    let hashes = after_prefix.len() - after_prefix.trim_start_matches('#').len();
    let body = after_prefix[hashes..].strip_prefix('"')?;
    let closing = format!("\"{}", "#".repeat(hashes));
    let end = body.find(&closing)?;
    Some(s.len() - body.len() + end + closing.len())
}

/// `'a'`, `'\n'`, `'\''` — not a lifetime (`'r`).
fn is_char_literal(b: &[u8]) -> bool {
    match b.get(1) {
        Some(b'\\') => true,
        Some(_) => {
            let s = std::str::from_utf8(&b[1..]).unwrap_or("");
            let c = s.chars().next().map_or(1, char::len_utf8);
            b.get(1 + c) == Some(&b'\'')
        }
        None => false,
    }
}

fn has_word(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        let is_ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !is_ident(before) && !is_ident(after)
    })
}

fn rel(p: &Path) -> String {
    p.strip_prefix(src()).unwrap().display().to_string()
}

#[test]
fn the_core_never_names_the_httpd_side() {
    let mut wrong = Vec::new();
    for (top, path) in files() {
        if SHELL_SIDE.contains(&top.as_str()) || top == "lib" {
            continue;
        }
        let code = code_only(&fs::read_to_string(&path).unwrap());
        for layer in SHELL_SIDE {
            if code.contains(&format!("crate::{layer}"))
                || code.contains(&format!("super::{layer}"))
            {
                wrong.push(format!("{} names {layer}", rel(&path)));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "core files that name the shell side: {wrong:#?}"
    );
}

#[test]
fn unsafe_only_where_the_design_allows_it() {
    let mut wrong = Vec::new();
    for (top, path) in files() {
        let code = code_only(&fs::read_to_string(&path).unwrap());
        if !UNSAFE_ALLOWED.contains(&top.as_str()) && has_word(&code, "unsafe") {
            wrong.push(rel(&path));
        }
    }
    assert!(
        wrong.is_empty(),
        "`unsafe` outside ffi/, httpd/, shm/: {wrong:#?}"
    );
}

#[test]
fn the_shell_reaches_httpd_only_through_the_wrappers() {
    for (top, path) in files() {
        let code = code_only(&fs::read_to_string(&path).unwrap());
        if top == "shell" {
            assert!(!code.contains("crate::ffi"), "{} uses ffi", rel(&path));
        }
        if top == "httpd" && !path.ends_with("records.rs") {
            assert!(
                !code.contains("crate::shell"),
                "{} names the shell",
                rel(&path)
            );
        }
    }
}

#[test]
fn every_core_root_forbids_unsafe_code() {
    let mut missing = Vec::new();
    for entry in fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if UNSAFE_ALLOWED.contains(&name.as_str()) || ["lib", "bin"].contains(&name.as_str()) {
            continue;
        }
        let root = if path.is_dir() {
            path.join("mod.rs")
        } else {
            path.clone()
        };
        // Test-only modules (`service_tests.rs`) are not roots.
        if !root.exists() || name.ends_with("tests") {
            continue;
        }
        if !fs::read_to_string(&root)
            .unwrap()
            .contains("#![forbid(unsafe_code)]")
        {
            missing.push(rel(&root));
        }
    }
    assert!(
        missing.is_empty(),
        "roots without #![forbid(unsafe_code)]: {missing:#?}"
    );
}

#[test]
fn shell_files_stay_small() {
    for (top, path) in files() {
        if top == "shell" || top == "httpd" {
            let lines = fs::read_to_string(&path).unwrap().lines().count();
            assert!(lines <= 350, "{} has {lines} lines (aim: ~300)", rel(&path));
        }
    }
}

#[test]
fn the_reader_itself_tells_code_from_text() {
    let code = code_only(
        "let a = \"unsafe\"; // unsafe\n/* unsafe */ let c = 'u'; fn f<'r>() {} r#\"unsafe\"#; unsafe {}",
    );
    assert_eq!(code.matches("unsafe").count(), 1, "{code}");
    assert!(has_word(&code, "unsafe"));
    assert!(!has_word("#![forbid(unsafe_code)]", "unsafe"));
    assert!(code.contains("fn f<'r>()"));
}
