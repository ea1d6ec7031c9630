//! The workers.properties reference (`docs/properties.md`), made from the same table the
//! parser checks attributes against ([`super::schema::ATTRIBUTES`]). A test keeps it current.
use super::schema::{Deprecated, AJP, ANY, ATTRIBUTES, LB, STATUS};
use std::fmt::Write as _;

fn applies_to(bits: u8) -> String {
    if bits == ANY {
        return "every worker".into();
    }
    let mut kinds = Vec::new();
    for (bit, name) in [
        (AJP, "ajp13 (and lb members)"),
        (LB, "lb"),
        (STATUS, "status"),
    ] {
        if bits & bit != 0 {
            kinds.push(name);
        }
    }
    kinds.join(", ")
}

/// Properties mod_jk does not have.
fn ours(name: &str) -> &'static str {
    match name {
        "persist" => {
            "mod_jk_rs only: the file that keeps the status page's edits across a full restart"
        }
        "reply_deadline" => {
            "mod_jk_rs only: the longest a whole reply may take (ms; 0: no limit), even from a backend that sends a little at a time"
        }
        "request_body_buffer" => {
            "mod_jk_rs only: bytes of a request body read before a backend is contacted (0: none), so slow uploads hold no Tomcat thread"
        }
        _ => "",
    }
}

/// The whole reference, as `docs/properties.md` holds it.
pub fn markdown() -> String {
    let mut out = String::from(
        "# workers.properties\n\n\
         <!-- Generated from src/config/schema.rs by src/config/reference.rs: edit those, then run\n\
         `MOD_JK_RS_BLESS=1 cargo test --lib reference` to rewrite this file. -->\n\n\
         Every `worker.<name>.<property>` mod_jk 1.2.50 accepts, with mod_jk's meaning and\n\
         default (reference: the Tomcat Connectors documentation of workers.properties).\n\
         `jkcheck --verbose workers.properties` prints the value each worker ends up with, after\n\
         `reference` chains and defaults; `apachectl -t` reports every mistake with file:line and a\n\
         \"did you mean\".\n\n\
         | Property | For | Repeats | Status |\n\
         |---|---|---|---|\n",
    );
    for a in ATTRIBUTES {
        let status = match a.deprecated {
            None => match ours(a.name) {
                "" => "as in mod_jk".to_string(),
                note => note.to_string(),
            },
            Some(Deprecated::RenamedTo(new)) => {
                format!("deprecated: read as `{new}`, with a warning")
            }
            Some(Deprecated::Ignored(why)) => {
                format!("accepted and ignored, with a warning: {why}")
            }
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {status} |",
            a.name,
            applies_to(a.applies_to),
            if a.list {
                "joined into a list"
            } else {
                "last one wins"
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_file_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/properties.md");
        let text = markdown();
        if std::env::var_os("MOD_JK_RS_BLESS").is_some() {
            std::fs::write(path, &text).expect("write docs/properties.md");
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == text,
            "docs/properties.md is not what src/config/schema.rs says: run \
             MOD_JK_RS_BLESS=1 cargo test --lib reference"
        );
        assert_eq!(text.matches("\n| `").count(), ATTRIBUTES.len());
    }
}
