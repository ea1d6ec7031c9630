//! URI → worker mapping (mod_jk reference §1.6, §3): mount rules from JkMount/JkUnMount,
//! uriworkermap.properties and `worker.<name>.mount`, their rule extensions, the sorted
//! `MountMap` that picks a worker for a URI, and the URI normaliser that runs first.
//! Pure Rust, no httpd types.
#![forbid(unsafe_code)]

mod extensions;
mod map;
mod normalize;
mod rule;

pub use extensions::RuleExtensions;
pub use map::{wildcard_match, MountMap, MAX_URI_LEN};
pub use normalize::{normalize_uri, NormalizeError};
pub use rule::{
    check_rules, parse_mount, parse_uri_worker_map, worker_definition_rules, MountRule,
    MountSource, RuleProblems,
};
