//! Turns parsed properties into typed worker definitions (mod_jk reference §2.1–§2.7):
//! resolves `reference` templates, applies `worker.list` and `worker.maintain`, builds each
//! listed worker and every lb member, and checks members, routes and secrets — reporting all
//! errors at once, each at the line that caused it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::ajp::{self, AjpWorker};
use super::error::{ConfigError, Origin};
use super::lb::{self, LbWorker};
use super::properties::{classify, Key, Properties};
use super::reader::{Attrs, Reader, Setting};
use super::schema::{self, Deprecated};
use super::status::{self, StatusWorker};
use super::value::{did_you_mean, list_items, parse_int, suggest};

/// Longest `reference` chain (mod_jk's recursion limit).
const MAX_REFERENCE_DEPTH: usize = 20;
/// The worker mod_jk configures when nothing else is configured.
const DEFAULT_WORKER: &str = "ajp13";
/// Worker types mod_jk once had that mod_jk_rs does not implement.
const UNSUPPORTED_TYPES: [(&str, &str); 3] = [
    ("ajp12", "ajp12 is obsolete"),
    (
        "ajp14",
        "ajp14 is experimental and being removed from mod_jk",
    ),
    ("jni", "jni was removed from mod_jk"),
];
/// Attributes that only mean something on an lb member.
const MEMBER_ATTRIBUTES: [&str; 9] = [
    "lbfactor",
    "route",
    "jvm_route",
    "domain",
    "redirect",
    "distance",
    "activation",
    "disabled",
    "stopped",
];

/// One typed worker.
// Built once at start-up, a handful per server: boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerDef {
    Ajp13(AjpWorker),
    Lb(LbWorker),
    Status(StatusWorker),
}

impl WorkerDef {
    pub fn name(&self) -> &str {
        match self {
            WorkerDef::Ajp13(w) => &w.name,
            WorkerDef::Lb(w) => &w.name,
            WorkerDef::Status(w) => &w.name,
        }
    }

    /// The `type` value: `ajp13`, `lb` or `status`.
    pub fn type_name(&self) -> &'static str {
        match self {
            WorkerDef::Ajp13(_) => "ajp13",
            WorkerDef::Lb(_) => "lb",
            WorkerDef::Status(_) => "status",
        }
    }

    /// URI patterns from `worker.<name>.mount`.
    pub fn mounts(&self) -> &[String] {
        match self {
            WorkerDef::Ajp13(w) => &w.mount,
            WorkerDef::Lb(w) => &w.mount,
            WorkerDef::Status(w) => &w.mount,
        }
    }
}

/// A `worker.<name>.mount` pattern of a listed worker, with the line it came from
/// (mount source "worker definition").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerMount {
    pub worker: String,
    pub pattern: String,
    pub origin: Origin,
}

/// All workers of a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workers {
    /// `worker.list` in order, without duplicates: the only workers requests can be mapped to.
    pub list: Vec<String>,
    /// `worker.maintain`, default 60 s; zero = maintenance disabled (0 or negative in the file).
    pub maintain: Duration,
    /// Every listed worker and every member of a listed lb.
    pub defs: BTreeMap<String, WorkerDef>,
    /// Found while building; parse-time warnings stay in [`Properties::warnings`].
    pub warnings: Vec<ConfigError>,
    /// Mount patterns of listed workers, in worker.list order.
    pub mounts: Vec<WorkerMount>,
    /// Every name with `worker.<name>.*` properties, listed or not (to tell a worker that was
    /// configured but not listed from one that exists nowhere).
    pub configured: std::collections::BTreeSet<String>,
    /// The properties as read, `key=value` in file order (status worker `cmd=dump`; secrets
    /// included: the status page drops them).
    pub dump: Vec<String>,
}

impl Workers {
    /// Resolves `reference` chains (max depth 20, loops are errors), types, defaults and every property;
    /// returns all errors found (not just the first).
    pub fn build(props: &Properties) -> Result<Workers, Vec<ConfigError>> {
        Builder::new(props).build()
    }

    pub fn get(&self, name: &str) -> Option<&WorkerDef> {
        self.defs.get(name)
    }

    /// In worker.list (only listed workers are mappable).
    pub fn is_listed(&self, name: &str) -> bool {
        self.list.iter().any(|listed| listed == name)
    }

    pub fn ajp(&self, name: &str) -> Option<&AjpWorker> {
        match self.defs.get(name) {
            Some(WorkerDef::Ajp13(w)) => Some(w),
            _ => None,
        }
    }

    pub fn lb(&self, name: &str) -> Option<&LbWorker> {
        match self.defs.get(name) {
            Some(WorkerDef::Lb(w)) => Some(w),
            _ => None,
        }
    }

    pub fn status(&self, name: &str) -> Option<&StatusWorker> {
        match self.defs.get(name) {
            Some(WorkerDef::Status(w)) => Some(w),
            _ => None,
        }
    }

    /// The members of `lb`, in `balance_workers` order.
    pub fn members<'a>(&'a self, lb: &'a LbWorker) -> impl Iterator<Item = &'a AjpWorker> + 'a {
        lb.members.iter().filter_map(|name| self.ajp(name))
    }
}

struct Builder<'p> {
    props: &'p Properties,
    /// Attributes written for each worker name (`worker.<name>.*` keys).
    own: BTreeMap<&'p str, Attrs<'p>>,
    /// Own attributes plus those inherited through `reference`.
    resolved: BTreeMap<&'p str, Attrs<'p>>,
    /// Workers some other worker references.
    templates: BTreeSet<&'p str>,
    /// Workers whose building was started (successful or not).
    attempted: BTreeSet<&'p str>,
    defs: BTreeMap<String, WorkerDef>,
    /// lb worker names each member belongs to.
    member_of: BTreeMap<&'p str, Vec<&'p str>>,
    /// lb a member without its own secret took its secret from.
    secret_from: BTreeMap<&'p str, &'p str>,
    errors: Vec<ConfigError>,
    warnings: Vec<ConfigError>,
}

impl<'p> Builder<'p> {
    fn new(props: &'p Properties) -> Builder<'p> {
        let mut own: BTreeMap<&'p str, Attrs<'p>> = BTreeMap::new();
        for (key, entry) in props.entries() {
            if let Ok(Key::Worker { name, attribute }) = classify(key) {
                own.entry(name)
                    .or_default()
                    .insert(attribute.name, Setting { entry, from: name });
            }
        }
        Builder {
            props,
            own,
            resolved: BTreeMap::new(),
            templates: BTreeSet::new(),
            attempted: BTreeSet::new(),
            defs: BTreeMap::new(),
            member_of: BTreeMap::new(),
            secret_from: BTreeMap::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn build(mut self) -> Result<Workers, Vec<ConfigError>> {
        let maintain = self.maintain();
        let listed = self.worker_list();
        // Resolve every worker, so reference mistakes in unused templates are reported too.
        let names: Vec<&'p str> = self.own.keys().copied().collect();
        for name in names {
            self.resolve(name, &mut Vec::new());
        }
        for (name, origin) in &listed {
            if origin.line != 0 && !self.own.contains_key(name) {
                self.warnings.push(ConfigError::new(
                    origin,
                    format!("worker '{name}' is listed in worker.list but has no properties; it is an ajp13 worker for localhost:8009"),
                ));
            }
            self.build_worker(name);
        }
        self.warn_member_attributes_on_standalone_workers();
        let mounts = self.mounts(&listed);
        self.warn_unused_workers();

        // Report each distinct message once, however many paths led to it.
        let errors = without_repeats(self.errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let warnings = without_repeats(self.warnings);
        let configured = self.own.keys().map(|n| (*n).to_owned()).collect();
        Ok(Workers {
            configured,
            dump: self.props.lines_as_read(),
            list: listed
                .into_iter()
                .map(|(name, _)| name.to_owned())
                .collect(),
            maintain,
            defs: self.defs,
            warnings,
            mounts,
        })
    }

    /// Some line of the configuration, for messages about the configuration as a whole.
    fn somewhere(&self) -> Origin {
        self.props
            .entries()
            .filter_map(|(_, entry)| entry.origin())
            .find(|origin| origin.line != 0)
            .map(|origin| Origin::new(&origin.file, 0))
            .unwrap_or_else(|| Origin::new("workers.properties", 0))
    }

    fn maintain(&mut self) -> Duration {
        let Some(entry) = self.props.entry("worker.maintain") else {
            return Duration::from_secs(60);
        };
        let text = entry.parts.last().map_or("", |p| p.value.as_str());
        match parse_int(text) {
            Ok(seconds) => Duration::from_secs(u64::try_from(seconds).unwrap_or(0)),
            Err(_) => {
                self.error_at(
                    entry.origin(),
                    format!("bad number '{text}' for 'worker.maintain': expected a whole number of seconds"),
                );
                Duration::from_secs(60)
            }
        }
    }

    /// `worker.list` items with their lines, or mod_jk's default.
    fn worker_list(&mut self) -> Vec<(&'p str, Origin)> {
        let Some(entry) = self.props.entry("worker.list") else {
            if self.own.is_empty() || self.own.contains_key(DEFAULT_WORKER) {
                // mod_jk's default list: one ajp13 worker called "ajp13".
                return vec![(DEFAULT_WORKER, self.somewhere())];
            }
            let defined: Vec<&str> = self.own.keys().copied().collect();
            let origin = self.somewhere();
            self.warnings.push(ConfigError::new(
                &origin,
                format!(
                    "worker.list is not set, so no worker can be mapped (defined workers: {}); add worker.list=<names>",
                    defined.join(", ")
                ),
            ));
            return Vec::new();
        };
        let mut listed: Vec<(&'p str, Origin)> = Vec::new();
        for part in &entry.parts {
            for name in list_items(&part.value) {
                if !super::is_valid_worker_name(name) {
                    self.errors.push(ConfigError::new(
                        &part.origin,
                        format!("invalid worker name '{name}' in worker.list: use 1 to {} letters, digits, '_' or '-'", super::MAX_NAME_LEN),
                    ));
                } else if listed.iter().any(|(n, _)| *n == name) {
                    self.warnings.push(ConfigError::new(
                        &part.origin,
                        format!("worker '{name}' is listed twice in worker.list"),
                    ));
                } else {
                    listed.push((name, part.origin.clone()));
                }
            }
        }
        listed
    }

    /// Own attributes of `name` plus, through `reference`, those of its templates.
    fn resolve(&mut self, name: &'p str, chain: &mut Vec<&'p str>) -> Attrs<'p> {
        if let Some(done) = self.resolved.get(name) {
            return done.clone();
        }
        let mut attrs = self.own.get(name).cloned().unwrap_or_default();
        if let Some(reference) = attrs.get("reference").copied() {
            chain.push(name);
            if let Some(target) = self.reference_target(name, reference, chain) {
                for (attr, setting) in self.resolve(target, chain) {
                    attrs.entry(attr).or_insert(setting);
                }
            }
            chain.pop();
        }
        self.resolved.insert(name, attrs.clone());
        attrs
    }

    /// Checks a `reference` value and returns the worker it names.
    fn reference_target(
        &mut self,
        name: &str,
        reference: Setting<'p>,
        chain: &[&'p str],
    ) -> Option<&'p str> {
        let text = reference.text();
        let key = format!("'worker.{}.reference'", reference.from);
        let origin = reference.origin();
        let Some(target) = text.strip_prefix("worker.") else {
            let hint = if self.own.contains_key(text) {
                format!("; write 'worker.{text}'")
            } else {
                String::new()
            };
            self.errors.push(ConfigError::new(
                &origin,
                format!("{key} = '{text}' must name a worker as 'worker.<name>'{hint}"),
            ));
            return None;
        };
        let Some((&target, _)) = self.own.get_key_value(target) else {
            let hint = did_you_mean(target, self.own.keys().copied(), "worker.");
            self.errors.push(ConfigError::new(
                &origin,
                format!("{key} names 'worker.{target}', which has no properties{hint}"),
            ));
            return None;
        };
        self.templates.insert(target);
        if chain.contains(&target) {
            let mut path: Vec<&str> = chain.to_vec();
            path.push(target);
            self.errors.push(ConfigError::new(
                &origin,
                format!("reference loop: {}", path.join(" -> ")),
            ));
            return None;
        }
        if chain.len() >= MAX_REFERENCE_DEPTH {
            // Name the worker whose chain is too long (its head), not the link that overflowed.
            let head = chain.first().copied().unwrap_or(name);
            self.errors.push(ConfigError::new(
                &origin,
                format!("reference chain of worker '{head}' is deeper than {MAX_REFERENCE_DEPTH} workers"),
            ));
            return None;
        }
        Some(target)
    }

    /// The `type` of a worker after references, and the setting it came from.
    fn type_of(&mut self, name: &'p str) -> (&'p str, Option<Setting<'p>>) {
        let attrs = self.resolve(name, &mut Vec::new());
        match attrs.get("type") {
            Some(setting) => (setting.text(), Some(*setting)),
            None => ("ajp13", None),
        }
    }

    /// Builds `name` (once) and, for an lb, its members.
    fn build_worker(&mut self, name: &'p str) {
        if !self.attempted.insert(name) {
            return;
        }
        let attrs = self.resolve(name, &mut Vec::new());
        let (type_name, type_setting) = self.type_of(name);
        let mut reader = Reader {
            worker: name,
            attrs: &attrs,
            errors: &mut self.errors,
            warnings: &mut self.warnings,
        };
        let def = match type_name {
            "ajp13" => WorkerDef::Ajp13(ajp::build(&mut reader)),
            "lb" => {
                let members_attr = reader
                    .first_set(&["balance_workers", "balanced_workers"])
                    .unwrap_or("balance_workers");
                let members = reader
                    .list(members_attr)
                    .into_iter()
                    .map(|(member, _)| member.to_owned())
                    .collect();
                WorkerDef::Lb(lb::build(&mut reader, members))
            }
            "status" => WorkerDef::Status(status::build(&mut reader)),
            other => {
                let origin = type_setting.map(|s| s.origin());
                let message = unsupported_type_message(name, other);
                self.error_at(origin.as_ref(), message);
                return;
            }
        };
        self.warn_misplaced_attributes(name, def.type_name());
        let is_lb = matches!(def, WorkerDef::Lb(_));
        self.defs.insert(name.to_owned(), def);
        if is_lb {
            self.build_members(name, &attrs);
        }
    }

    fn build_members(&mut self, lb_name: &'p str, attrs: &Attrs<'p>) {
        let reader = Reader {
            worker: lb_name,
            attrs,
            errors: &mut Vec::new(),
            warnings: &mut Vec::new(),
        };
        let attr = reader
            .first_set(&["balance_workers", "balanced_workers"])
            .unwrap_or("balance_workers");
        let items = reader.list(attr);
        if items.is_empty() {
            let origin = attrs.get("type").map(|s| s.origin());
            self.error_at(
                origin.as_ref(),
                format!(
                    "lb worker '{lb_name}' has no members: set worker.{lb_name}.balance_workers"
                ),
            );
            return;
        }
        let lb_secret = self.defs.get(lb_name).and_then(|def| match def {
            WorkerDef::Lb(lb) => lb.secret.clone(),
            _ => None,
        });
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut routes: BTreeMap<String, &'p str> = BTreeMap::new();
        let mut members: Vec<&'p str> = Vec::new();
        let listed: BTreeSet<&str> = items.iter().map(|(m, _)| *m).collect();
        for (member, origin) in items {
            if !super::is_valid_worker_name(member) {
                self.errors.push(ConfigError::new(
                    &origin,
                    format!("invalid worker name '{member}' in 'worker.{lb_name}.{attr}'"),
                ));
                continue;
            }
            if !seen.insert(member) {
                self.errors.push(ConfigError::new(
                    &origin,
                    format!("member '{member}' is listed twice in 'worker.{lb_name}.{attr}'"),
                ));
                continue;
            }
            if !self.own.contains_key(member) {
                // Suggest a defined worker that could be a member and is not one already.
                let own = &self.own;
                let candidates = own.iter().filter_map(|(name, attrs)| {
                    let kind = attrs.get("type").map(|t| t.text().trim());
                    (*name != lb_name
                        && !listed.contains(name)
                        && !matches!(kind, Some("lb" | "status")))
                    .then_some(*name)
                });
                let hint = did_you_mean(member, candidates, "");
                self.errors.push(ConfigError::new(
                    &origin,
                    format!("member '{member}' of lb worker '{lb_name}' is not defined: there are no worker.{member}.* properties{hint}"),
                ));
                continue;
            }
            let (member_type, _) = self.type_of(member);
            if member_type == "lb" || member_type == "status" {
                self.errors.push(ConfigError::new(
                    &origin,
                    format!("member '{member}' of lb worker '{lb_name}' is a {member_type} worker; lb members must be ajp13 workers"),
                ));
                continue;
            }
            self.build_worker(member);
            self.member_of.entry(member).or_default().push(lb_name);
            let Some(WorkerDef::Ajp13(worker)) = self.defs.get_mut(member) else {
                continue; // its type error is already reported
            };
            if let Some(secret) = &lb_secret {
                match self.secret_from.get(member) {
                    None if worker.secret.is_none() => {
                        worker.secret = Some(secret.clone());
                        self.secret_from.insert(member, lb_name);
                    }
                    Some(first) if worker.secret.as_ref() != Some(secret) => {
                        self.warnings.push(ConfigError::new(
                            &origin,
                            format!("member '{member}' has no secret of its own and lb workers '{first}' and '{lb_name}' have different secrets; it uses the one of '{first}'"),
                        ));
                    }
                    _ => {}
                }
            }
            let route = worker.route.clone();
            if let Some(other) = routes.get(&route) {
                let route_origin = self
                    .resolved
                    .get(member)
                    .and_then(|a| a.get("route").or_else(|| a.get("jvm_route")))
                    .map(|s| s.origin())
                    .unwrap_or(origin);
                self.errors.push(ConfigError::new(
                    &route_origin,
                    format!("members '{other}' and '{member}' of lb worker '{lb_name}' share the route '{route}': each member needs its own route (Tomcat's jvmRoute)"),
                ));
            } else {
                routes.insert(route, member);
            }
            members.push(member);
        }
        self.check_redirects(lb_name, &members, &routes);
    }

    /// `redirect` names the route of another member of the same lb (mod_jk looks it up by route).
    fn check_redirects(
        &mut self,
        lb_name: &str,
        members: &[&'p str],
        routes: &BTreeMap<String, &'p str>,
    ) {
        for member in members {
            let Some(WorkerDef::Ajp13(worker)) = self.defs.get(*member) else {
                continue;
            };
            if worker.redirect.is_empty() || routes.contains_key(&worker.redirect) {
                continue;
            }
            let origin = self
                .resolved
                .get(member)
                .and_then(|a| a.get("redirect"))
                .map(|s| s.origin());
            let message = format!(
                "redirect '{}' of worker '{member}' is not the route of any member of lb worker '{lb_name}'",
                worker.redirect
            );
            if let Some(origin) = origin {
                self.warnings.push(ConfigError::new(&origin, message));
            }
        }
    }

    /// Attributes written directly for a worker whose type never reads them.
    fn warn_misplaced_attributes(&mut self, name: &str, type_name: &str) {
        let Some(own) = self.own.get(name) else {
            return;
        };
        let bit = schema::type_bit(type_name);
        for (attr, setting) in own {
            let Some(attribute) = schema::attribute(attr) else {
                continue;
            };
            let ignored = matches!(attribute.deprecated, Some(Deprecated::Ignored(_)));
            if !ignored && attribute.applies_to & bit == 0 {
                self.warnings.push(ConfigError::new(
                    &setting.origin(),
                    format!("'worker.{name}.{attr}' has no effect on {type_name} worker '{name}'"),
                ));
            }
        }
    }

    /// Whether an lb that is defined but not built (not in worker.list) names `worker` in its
    /// `balance_workers`: that lb gets the "defined but not used" warning, the member none.
    fn member_of_unused_lb(&self, worker: &str) -> bool {
        self.own.values().any(|attrs| {
            attrs.get("type").is_some_and(|t| t.text().trim() == "lb")
                && ["balance_workers", "balanced_workers"].iter().any(|attr| {
                    attrs
                        .get(attr)
                        .is_some_and(|v| list_items(v.text()).any(|m| m == worker))
                })
        })
    }

    fn warn_member_attributes_on_standalone_workers(&mut self) {
        for (name, def) in &self.defs {
            if !matches!(def, WorkerDef::Ajp13(_))
                || self.member_of.contains_key(name.as_str())
                || self.member_of_unused_lb(name)
            {
                continue;
            }
            let Some(own) = self.own.get(name.as_str()) else {
                continue;
            };
            for attr in MEMBER_ATTRIBUTES {
                if let Some(setting) = own.get(attr) {
                    self.warnings.push(ConfigError::new(
                        &setting.origin(),
                        format!("'worker.{name}.{attr}' has no effect: worker '{name}' is not a member of any lb worker"),
                    ));
                }
            }
        }
    }

    /// `mount` patterns of listed workers; on unlisted members they are ignored, as in mod_jk.
    fn mounts(&mut self, listed: &[(&'p str, Origin)]) -> Vec<WorkerMount> {
        let mut mounts = Vec::new();
        for (name, _) in listed {
            if !self.defs.contains_key(*name) {
                continue;
            }
            let Some(attrs) = self.resolved.get(name) else {
                continue;
            };
            let reader = Reader {
                worker: name,
                attrs,
                errors: &mut Vec::new(),
                warnings: &mut Vec::new(),
            };
            for (pattern, origin) in reader.list("mount") {
                mounts.push(WorkerMount {
                    worker: (*name).to_owned(),
                    pattern: pattern.to_owned(),
                    origin,
                });
            }
        }
        // mod_jk drops such a mount without a word; the mount is what the author meant.
        for (name, attrs) in &self.own {
            if listed.iter().any(|(n, _)| n == name) || self.templates.contains(name) {
                continue;
            }
            if let Some(setting) = attrs.get("mount") {
                self.errors.push(ConfigError::new(
                    &setting.origin(),
                    format!("'worker.{name}.mount' mounts a worker that is not in worker.list, so no request could reach it: add '{name}' to worker.list (mod_jk would drop the mount silently)"),
                ));
            }
        }
        mounts
    }

    fn warn_unused_workers(&mut self) {
        for (name, attrs) in &self.own {
            // An unlisted worker with a mount has its error already.
            if self.attempted.contains(name)
                || self.templates.contains(name)
                || attrs.get("mount").is_some()
            {
                continue;
            }
            let Some(origin) = attrs.values().map(|s| s.origin()).min() else {
                continue;
            };
            self.warnings.push(ConfigError::new(
                &origin,
                format!("worker '{name}' is defined but not used: it is not in worker.list, not an lb member and not a reference template"),
            ));
        }
    }

    fn error_at(&mut self, origin: Option<&Origin>, message: String) {
        let origin = origin.cloned().unwrap_or_else(|| self.somewhere());
        self.errors.push(ConfigError::new(&origin, message));
    }
}

fn without_repeats(found: Vec<ConfigError>) -> Vec<ConfigError> {
    let mut unique: Vec<ConfigError> = Vec::with_capacity(found.len());
    for item in found {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    unique
}

fn unsupported_type_message(name: &str, type_name: &str) -> String {
    if let Some((_, why)) = UNSUPPORTED_TYPES.iter().find(|(t, _)| *t == type_name) {
        return format!(
            "worker '{name}' has type '{type_name}', which mod_jk_rs does not support ({why}); use ajp13"
        );
    }
    match suggest(type_name, ["ajp13", "lb", "status"]) {
        Some(close) => format!(
            "unknown worker type '{type_name}' for worker '{name}'; did you mean '{close}'?"
        ),
        None => format!(
            "unknown worker type '{type_name}' for worker '{name}': use ajp13, lb or status"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, LbLock, LbMethod, PingMode};

    fn props(text: &str) -> Properties {
        let mut props = Properties::new();
        props
            .parse_str(text, "w")
            .unwrap_or_else(|e| panic!("parse failed: {e}"));
        props
    }

    fn build(text: &str) -> Workers {
        Workers::build(&props(text)).unwrap_or_else(|errors| panic!("build failed: {errors:?}"))
    }

    fn errors(text: &str) -> Vec<String> {
        match Workers::build(&props(text)) {
            Ok(_) => panic!("expected errors for {text:?}"),
            Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
        }
    }

    fn warnings(workers: &Workers) -> Vec<String> {
        workers.warnings.iter().map(|w| w.to_string()).collect()
    }

    fn ajp<'a>(workers: &'a Workers, name: &str) -> &'a AjpWorker {
        workers
            .ajp(name)
            .unwrap_or_else(|| panic!("no ajp13 worker {name}"))
    }

    const TUTORIAL: &str = include_str!("../../tests/fixtures/tutorial-workers.properties");

    #[test]
    fn tutorial_workers_properties_parse_verbatim() {
        let props = props(TUTORIAL);
        assert!(props.warnings().is_empty(), "{:?}", props.warnings());
        let workers = Workers::build(&props).expect("tutorial builds");
        assert_eq!(workers.list, ["lbcluster", "stat1"]);
        assert!(workers.warnings.is_empty(), "{:?}", workers.warnings);
        let lb = workers.lb("lbcluster").expect("lb");
        assert_eq!(lb.members, ["TomcatA", "TomcatB"]);
        assert!(!lb.sticky_session);
        let a = ajp(&workers, "TomcatA");
        assert_eq!(
            (a.host.as_str(), a.port, a.lbfactor),
            ("192.168.18.201", 8009, 1)
        );
        let b = ajp(&workers, "TomcatB");
        assert_eq!(
            (b.host.as_str(), b.port, b.route.as_str()),
            ("192.168.18.202", 8009, "TomcatB")
        );
        assert_eq!(
            workers.get("stat1").map(WorkerDef::type_name),
            Some("status")
        );
        assert!(workers.is_listed("stat1"));
        assert!(!workers.is_listed("TomcatA"), "members are not mappable");
        assert_eq!(workers.defs.len(), 4);
    }

    #[test]
    fn every_build_error_kind_names_file_and_line() {
        let cases: &[(&str, &[&str])] = &[
            (
                "worker.list=a\nworker.a.port=80x9",
                &["w:2: bad port '80x9' in 'worker.a.port': expected a number from 0 to 65535"],
            ),
            (
                "worker.list=a\nworker.a.port=70000",
                &["w:2: bad port '70000' in 'worker.a.port': expected a number from 0 to 65535"],
            ),
            (
                "worker.list=a\nworker.a.socket_timeout=10s",
                &["w:2: bad number '10s' for 'worker.a.socket_timeout': expected a whole number of seconds"],
            ),
            (
                "worker.list=a\nworker.a.reply_timeout=1.5",
                &["w:2: bad number '1.5' for 'worker.a.reply_timeout': expected a whole number of milliseconds"],
            ),
            (
                "worker.list=a\nworker.a.distance=-1",
                &["w:2: 'worker.a.distance' must not be negative (found -1)"],
            ),
            (
                "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a\nworker.a.port=1\nworker.l.sticky_session=maybe",
                &["w:5: bad boolean 'maybe' for 'worker.l.sticky_session': use true/false, yes/no, on/off or 1/0"],
            ),
            (
                "worker.list=a\nworker.a.type=ajp14",
                &["w:2: worker 'a' has type 'ajp14', which mod_jk_rs does not support (ajp14 is experimental and being removed from mod_jk); use ajp13"],
            ),
            (
                "worker.list=a\nworker.a.type=ajp12",
                &["w:2: worker 'a' has type 'ajp12', which mod_jk_rs does not support (ajp12 is obsolete); use ajp13"],
            ),
            (
                "worker.list=a\nworker.a.type=jni",
                &["w:2: worker 'a' has type 'jni', which mod_jk_rs does not support (jni was removed from mod_jk); use ajp13"],
            ),
            (
                "worker.list=a\nworker.a.type=ajp31",
                &["w:2: unknown worker type 'ajp31' for worker 'a'; did you mean 'ajp13'?"],
            ),
            (
                "worker.list=a\nworker.a.type=proxy",
                &["w:2: unknown worker type 'proxy' for worker 'a': use ajp13, lb or status"],
            ),
            (
                "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=node1,nod2\nworker.node1.port=1\nworker.node2.port=2",
                &["w:3: member 'nod2' of lb worker 'l' is not defined: there are no worker.nod2.* properties; did you mean 'node2'?"],
            ),
            (
                "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a\nworker.l.balance_workers=ghost\nworker.a.port=1",
                &["w:4: member 'ghost' of lb worker 'l' is not defined: there are no worker.ghost.* properties"],
            ),
            (
                "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a,b\nworker.a.route=r1\nworker.b.route=r1",
                &["w:5: members 'a' and 'b' of lb worker 'l' share the route 'r1': each member needs its own route (Tomcat's jvmRoute)"],
            ),
            (
                "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a,b\nworker.a.port=1\nworker.b.jvm_route=a",
                &["w:5: members 'a' and 'b' of lb worker 'l' share the route 'a': each member needs its own route (Tomcat's jvmRoute)"],
            ),
            (
                "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a,a\nworker.a.port=1",
                &["w:3: member 'a' is listed twice in 'worker.l.balance_workers'"],
            ),
            (
                "worker.list=l\nworker.l.type=lb",
                &["w:2: lb worker 'l' has no members: set worker.l.balance_workers"],
            ),
            (
                "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=s\nworker.s.type=status",
                &["w:3: member 's' of lb worker 'l' is a status worker; lb members must be ajp13 workers"],
            ),
            (
                "worker.list=a\nworker.a.reference=worker.b\nworker.b.reference=worker.a",
                &["w:3: reference loop: a -> b -> a"],
            ),
            (
                "worker.list=a\nworker.a.reference=worker.a",
                &["w:2: reference loop: a -> a"],
            ),
            (
                "worker.list=a\nworker.a.reference=t\nworker.t.port=1",
                &["w:2: 'worker.a.reference' = 't' must name a worker as 'worker.<name>'; write 'worker.t'"],
            ),
            (
                "worker.list=a\nworker.a.reference=worker.tmpl\nworker.templ.port=1",
                &["w:2: 'worker.a.reference' names 'worker.tmpl', which has no properties; did you mean 'worker.templ'?"],
            ),
            (
                "worker.list=a,b@c",
                &["w:1: invalid worker name 'b@c' in worker.list: use 1 to 60 letters, digits, '_' or '-'"],
            ),
            (
                "worker.maintain=often",
                &["w:1: bad number 'often' for 'worker.maintain': expected a whole number of seconds"],
            ),
            (
                "worker.list=a\nworker.a.activation=on",
                &["w:2: unknown activation 'on' for 'worker.a.activation': use Active, Disabled or Stopped"],
            ),
            (
                "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a\nworker.a.port=1\nworker.l.method=random",
                &["w:5: unknown method 'random' for 'worker.l.method': use Request, Traffic, Busyness, Sessions or Next"],
            ),
            (
                "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a\nworker.a.port=1\nworker.l.lock=global",
                &["w:5: unknown lock 'global' for 'worker.l.lock': use Optimistic or Pessimistic"],
            ),
            (
                "worker.list=a\nworker.a.ping_mode=connect",
                &["w:2: unknown letter 'o' in 'worker.a.ping_mode' = 'connect': use C (connect), P (prepost), I (interval) or A (all)"],
            ),
            (
                "worker.list=a\nworker.a.host=tc:8010\nworker.a.port=8009",
                &["w:3: 'worker.a.host' says port 8010 but 'worker.a.port' says 8009"],
            ),
            (
                "worker.list=a\nworker.a.connection_pool_size=0",
                &["w:2: 'worker.a.connection_pool_size' must be at least 1 (found 0); leave it unset to use ThreadsPerChild"],
            ),
            (
                "worker.list=a\nworker.a.fail_on_status=500,5o3",
                &["w:2: bad status code '5o3' in 'worker.a.fail_on_status'"],
            ),
            (
                "worker.list=a\nworker.a.fail_on_status=42",
                &["w:2: 'worker.a.fail_on_status' contains 42, which is not an HTTP status (100..599, negative to keep the member usable)"],
            ),
            (
                "worker.list=a\nworker.a.route=r123456789012345678901234567890123456789012345678901234567890",
                &["w:2: 'worker.a.route' is longer than 60 characters"],
            ),
            (
                "worker.list=s\nworker.s.type=status\nworker.s.good=a.o,x",
                &["w:3: unknown rating letter 'x' in 'x' of 'worker.s.good': use a, d, s (activation) and o, i, b, r, e (state)"],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(errors(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn all_errors_are_reported_not_just_the_first() {
        let found = errors(
            "worker.list=a,b,l\n\
             worker.a.port=x\n\
             worker.b.type=ajp14\n\
             worker.l.type=lb\n\
             worker.l.balance_workers=missing",
        );
        assert_eq!(
            found,
            [
                "w:2: bad port 'x' in 'worker.a.port': expected a number from 0 to 65535",
                "w:3: worker 'b' has type 'ajp14', which mod_jk_rs does not support (ajp14 is experimental and being removed from mod_jk); use ajp13",
                "w:5: member 'missing' of lb worker 'l' is not defined: there are no worker.missing.* properties",
            ]
        );
    }

    #[test]
    fn reference_chain_deeper_than_twenty_is_an_error() {
        let mut text = String::from("worker.list=w0\n");
        for i in 0..22 {
            text.push_str(&format!("worker.w{i}.reference=worker.w{}\n", i + 1));
        }
        text.push_str("worker.w22.port=1\n");
        // As in mod_jk, a chain may hold 20 workers: w19 may not reference w20.
        let found = errors(&text);
        assert_eq!(
            found,
            ["w:21: reference chain of worker 'w0' is deeper than 20 workers"]
        );
    }

    #[test]
    fn reference_chain_of_twenty_workers_is_fine() {
        let mut text = String::from("worker.list=w0\n");
        for i in 0..19 {
            text.push_str(&format!("worker.w{i}.reference=worker.w{}\n", i + 1));
        }
        text.push_str("worker.w19.port=8123\n");
        assert_eq!(ajp(&build(&text), "w0").port, 8123);
    }

    #[test]
    fn error_in_inherited_value_points_at_the_template_line() {
        let found = errors("worker.list=a\nworker.a.reference=worker.t\nworker.t.port=abc");
        assert_eq!(
            found,
            ["w:3: bad port 'abc' in 'worker.t.port' (inherited by worker 'a'): expected a number from 0 to 65535"]
        );
    }

    #[test]
    fn reference_copies_only_unset_attributes_over_several_hops() {
        let workers = build(
            "worker.list=a\n\
             worker.base.host=tomcat\n\
             worker.base.port=8010\n\
             worker.base.socket_keepalive=true\n\
             worker.mid.reference=worker.base\n\
             worker.mid.port=8011\n\
             worker.mid.lbfactor=5\n\
             worker.a.reference=worker.mid\n\
             worker.a.lbfactor=7",
        );
        let a = ajp(&workers, "a");
        assert_eq!(a.host, "tomcat");
        assert_eq!(a.port, 8011);
        assert!(a.socket_keepalive);
        assert_eq!(a.lbfactor, 7);
        assert!(workers.get("base").is_none(), "templates are not workers");
        assert!(!warnings(&workers).iter().any(|w| w.contains("not used")));
    }

    #[test]
    fn listed_name_without_properties_is_a_default_ajp13_worker() {
        let workers = build("worker.list=ajp13,other\nworker.other.port=8010");
        let default = ajp(&workers, "ajp13");
        assert_eq!(*default, AjpWorker::with_defaults("ajp13"));
        assert_eq!((default.host.as_str(), default.port), ("localhost", 8009));
        assert_eq!(
            warnings(&workers),
            ["w:1: worker 'ajp13' is listed in worker.list but has no properties; it is an ajp13 worker for localhost:8009"]
        );
    }

    #[test]
    fn empty_configuration_gets_the_default_ajp13_worker() {
        let workers = Workers::build(&Properties::new()).expect("builds");
        assert_eq!(workers.list, ["ajp13"]);
        assert_eq!(ajp(&workers, "ajp13").port, 8009);
        assert!(workers.warnings.is_empty());
        assert_eq!(workers.maintain, Duration::from_secs(60));
    }

    #[test]
    fn missing_worker_list_lists_ajp13_only_when_it_is_the_configured_worker() {
        let workers = build("worker.ajp13.port=8010");
        assert_eq!(workers.list, ["ajp13"]);
        assert_eq!(ajp(&workers, "ajp13").port, 8010);

        let workers = build("worker.app.port=8010");
        assert!(workers.list.is_empty());
        assert!(workers.defs.is_empty());
        assert_eq!(
            warnings(&workers)[0],
            "w: worker.list is not set, so no worker can be mapped (defined workers: app); add worker.list=<names>"
        );
    }

    #[test]
    fn worker_list_repeats_concatenate_and_duplicates_warn() {
        let workers = build("worker.list=a\nworker.list=b a\nworker.a.port=1\nworker.b.port=2");
        assert_eq!(workers.list, ["a", "b"]);
        assert_eq!(
            warnings(&workers),
            ["w:2: worker 'a' is listed twice in worker.list"]
        );
    }

    #[test]
    fn maintain_reads_seconds_and_non_positive_disables() {
        assert_eq!(
            build("worker.maintain=30").maintain,
            Duration::from_secs(30)
        );
        assert_eq!(build("worker.maintain=0").maintain, Duration::ZERO);
        assert_eq!(build("worker.maintain=-5").maintain, Duration::ZERO);
    }

    #[test]
    fn ajp_defaults_match_mod_jk() {
        let workers = build("worker.list=a\nworker.a.host=h");
        let a = ajp(&workers, "a");
        assert_eq!(a.port, 8009);
        assert_eq!(a.socket_timeout, None);
        assert_eq!(a.socket_connect_timeout, None);
        assert_eq!(a.ping_mode, PingMode::default());
        assert_eq!(a.ping_timeout, Duration::from_millis(10_000));
        assert_eq!(a.connect_timeout, None);
        assert_eq!(a.prepost_timeout, None);
        assert_eq!(a.connection_ping_interval, None);
        assert_eq!(a.connection_pool_size, None);
        assert_eq!(
            a.connection_acquire_timeout,
            Some(Duration::from_millis(200))
        );
        assert_eq!(a.retries, 2);
        assert_eq!(a.retry_interval, Duration::from_millis(100));
        assert_eq!(a.max_packet_size, 8192);
        assert_eq!(a.lbfactor, 1);
        assert_eq!(a.route, "a");
        assert_eq!(a.domain, "");
        assert_eq!(a.activation, Activation::Active);
    }

    #[test]
    fn timeouts_use_their_units_and_derived_defaults() {
        let workers = build(
            "worker.list=a,b,c\n\
             worker.a.socket_timeout=5\n\
             worker.a.ping_mode=A\n\
             worker.a.ping_timeout=2000\n\
             worker.a.retries=3\n\
             worker.a.retry_interval=50\n\
             worker.a.reply_timeout=300000\n\
             worker.a.reply_deadline=60000\n\
             worker.a.connection_pool_timeout=600\n\
             worker.b.reply_deadline=0\n\
             worker.b.socket_timeout=5\n\
             worker.b.socket_connect_timeout=0\n\
             worker.b.connect_timeout=1500\n\
             worker.b.connection_acquire_timeout=0\n\
             worker.c.ping_mode=I\n\
             worker.c.connection_ping_interval=30",
        );
        let a = ajp(&workers, "a");
        assert_eq!(a.socket_timeout, Some(Duration::from_secs(5)));
        assert_eq!(a.socket_connect_timeout, Some(Duration::from_millis(5000)));
        assert_eq!(a.connect_timeout, Some(Duration::from_millis(2000)));
        assert_eq!(a.prepost_timeout, Some(Duration::from_millis(2000)));
        assert_eq!(a.connection_ping_interval, Some(Duration::from_secs(20)));
        assert_eq!(
            a.connection_acquire_timeout,
            Some(Duration::from_millis(150))
        );
        assert_eq!(a.reply_timeout, Some(Duration::from_secs(300)));
        assert_eq!(a.reply_deadline, Some(Duration::from_secs(60)));
        assert_eq!(a.connection_pool_timeout, Some(Duration::from_secs(600)));
        let b = ajp(&workers, "b");
        assert_eq!(b.socket_connect_timeout, None);
        assert_eq!(b.connect_timeout, Some(Duration::from_millis(1500)));
        assert!(!b.ping_mode.connect);
        assert_eq!(b.connection_acquire_timeout, None);
        assert_eq!(b.reply_deadline, None, "0 is no limit");
        let c = ajp(&workers, "c");
        assert_eq!(c.connection_ping_interval, Some(Duration::from_secs(30)));
    }

    #[test]
    fn unix_socket_host_names_a_path_and_ignores_the_port() {
        let dir = std::env::temp_dir();
        let sock = dir.join("ajp.sock");
        let text = format!(
            "worker.list=a,b\nworker.a.host=unix:{}\nworker.a.ping_mode=A\nworker.b.port=8010\n",
            sock.display()
        );
        let workers = build(&text);
        assert!(workers.warnings.is_empty(), "{:?}", workers.warnings);
        let a = ajp(&workers, "a");
        assert_eq!(a.unix_socket.as_deref(), Some(sock.as_path()));
        assert_eq!(a.host, format!("unix:{}", sock.display()));
        assert_eq!(a.port, 0);
        assert_eq!(a.activation, Activation::Active, "port 0 does not stop it");
        assert!(a.ping_mode.connect);
        let b = ajp(&workers, "b");
        assert_eq!(b.unix_socket, None);
        assert_eq!((b.host.as_str(), b.port), ("localhost", 8010));

        let with_port = build(&format!(
            "worker.list=a\nworker.a.host=unix:{}\nworker.a.port=8009\n",
            sock.display()
        ));
        assert_eq!(ajp(&with_port, "a").port, 0);
        assert_eq!(
            warnings(&with_port),
            ["w:3: 'worker.a.port' is ignored: 'worker.a.host' names a Unix domain socket"]
        );
    }

    #[test]
    fn unix_socket_path_must_be_absolute_in_an_existing_directory() {
        let missing = std::env::temp_dir()
            .join("no-such-dir-for-jk")
            .join("ajp.sock");
        let long = format!("/tmp/{}", "s".repeat(120));
        let cases = [
            (
                "worker.list=a\nworker.a.host=unix:run/ajp.sock".to_owned(),
                "w:2: 'worker.a.host': the socket path 'run/ajp.sock' is not absolute: write unix:/full/path/to/ajp.sock".to_owned(),
            ),
            (
                format!("worker.list=a\nworker.a.host=unix:{}", missing.display()),
                format!(
                    "w:2: 'worker.a.host': the directory '{}' of the socket '{}' does not exist; create it or correct the path",
                    missing.parent().expect("dir").display(),
                    missing.display()
                ),
            ),
            (
                "worker.list=a\nworker.a.host=unix:/".to_owned(),
                "w:2: 'worker.a.host': '/' names no socket file".to_owned(),
            ),
            (
                format!("worker.list=a\nworker.a.host=unix:{long}"),
                "w:2: 'worker.a.host': the socket path is 125 bytes long; a Unix socket path has at most 107".to_owned(),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(errors(&text), [expected], "{text}");
        }
    }

    #[test]
    fn negative_timeout_means_none_with_warning() {
        let workers = build("worker.list=a\nworker.a.reply_timeout=-1");
        assert_eq!(ajp(&workers, "a").reply_timeout, None);
        assert_eq!(
            warnings(&workers),
            ["w:2: 'worker.a.reply_timeout' is negative (-1); that means no timeout, write 0 to say so"]
        );
    }

    #[test]
    fn packet_size_is_rounded_with_warning_and_socket_buffer_follows_it() {
        let workers =
            build("worker.list=a\nworker.a.max_packet_size=20000\nworker.a.socket_buffer=1000");
        let a = ajp(&workers, "a");
        assert_eq!(a.max_packet_size, 20480);
        assert_eq!(a.socket_buffer, Some(20480));
        assert_eq!(
            warnings(&workers),
            ["w:2: 'worker.a.max_packet_size' = 20000 is used as 20480 (a multiple of 1024 from 8192 to 65536)"]
        );
        let workers = build("worker.list=a\nworker.a.max_packet_size=64k");
        assert_eq!(ajp(&workers, "a").max_packet_size, 65536);
        assert!(workers.warnings.is_empty());
    }

    #[test]
    fn retries_and_lbfactor_below_one_are_raised_with_warning() {
        let workers = build(
            "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a\nworker.a.retries=0\nworker.a.lbfactor=0",
        );
        let a = ajp(&workers, "a");
        assert_eq!((a.retries, a.lbfactor), (1, 1));
        assert_eq!(
            warnings(&workers),
            [
                "w:4: 'worker.a.retries' is 0 but the minimum is 1; using 1",
                "w:5: 'worker.a.lbfactor' is 0 but the minimum is 1; using 1",
            ]
        );
    }

    #[test]
    fn host_may_embed_port() {
        let workers = build("worker.list=a,b\nworker.a.host=tc:8010\nworker.b.host=[::1]:8011");
        assert_eq!(
            (ajp(&workers, "a").host.as_str(), ajp(&workers, "a").port),
            ("tc", 8010)
        );
        assert_eq!(
            (ajp(&workers, "b").host.as_str(), ajp(&workers, "b").port),
            ("::1", 8011)
        );
    }

    #[test]
    fn route_with_dot_sets_domain_unless_domain_is_set() {
        let workers = build(
            "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a,b,c\n\
             worker.a.route=dc1.node1\n\
             worker.b.route=dc2.node2\nworker.b.domain=mine\n\
             worker.c.port=8010",
        );
        assert_eq!(ajp(&workers, "a").domain, "dc1");
        assert_eq!(ajp(&workers, "b").domain, "mine");
        assert_eq!(ajp(&workers, "c").domain, "");
    }

    #[test]
    fn deprecated_aliases_are_honoured() {
        let text = "worker.list=l\n\
                    worker.l.type=lb\n\
                    worker.l.balanced_workers=a,b,c\n\
                    worker.a.cachesize=10\n\
                    worker.a.cache_timeout=30\n\
                    worker.a.jvm_route=r1\n\
                    worker.b.recycle_timeout=40\n\
                    worker.b.disabled=true\n\
                    worker.c.stopped=1\n\
                    worker.c.disabled=1";
        let parsed = props(text);
        assert_eq!(parsed.warnings().len(), 8, "{:?}", parsed.warnings());
        let workers = Workers::build(&parsed).expect("builds");
        assert_eq!(workers.lb("l").map(|l| l.members.len()), Some(3));
        let a = ajp(&workers, "a");
        assert_eq!(a.connection_pool_size, Some(10));
        assert_eq!(a.connection_pool_timeout, Some(Duration::from_secs(30)));
        assert_eq!(a.route, "r1");
        let b = ajp(&workers, "b");
        assert_eq!(b.connection_pool_timeout, Some(Duration::from_secs(40)));
        assert_eq!(b.activation, Activation::Disabled);
        assert_eq!(ajp(&workers, "c").activation, Activation::Stopped);
    }

    #[test]
    fn activation_wins_over_deprecated_flags() {
        let workers = build(
            "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a\nworker.a.activation=active\nworker.a.stopped=1",
        );
        assert_eq!(ajp(&workers, "a").activation, Activation::Active);
    }

    #[test]
    fn member_with_port_zero_starts_stopped() {
        let workers =
            build("worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a\nworker.a.port=0");
        assert_eq!(ajp(&workers, "a").activation, Activation::Stopped);
    }

    #[test]
    fn lb_defaults_match_mod_jk() {
        let workers =
            build("worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a\nworker.a.port=1");
        let lb = workers.lb("l").expect("lb");
        assert_eq!(*lb, LbWorker::with_defaults("l", vec!["a".to_owned()]));
        assert!(lb.sticky_session);
        assert_eq!(lb.method, LbMethod::Request);
        assert_eq!(lb.lock, LbLock::Optimistic);
        assert_eq!(lb.recover_time, Duration::from_secs(60));
        assert_eq!(lb.error_escalation_time, Duration::from_secs(30));
        assert_eq!(lb.session_cookie, "JSESSIONID");
        assert_eq!(lb.session_path, ";jsessionid");
        assert_eq!(lb.session_cookie_path, "/");
    }

    #[test]
    fn lb_properties_are_typed() {
        let workers = build(
            "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a b\n\
             worker.a.port=1\nworker.b.port=2\n\
             worker.l.method=B\nworker.l.lock=P\nworker.l.retries=3\nworker.l.lb_retries=4\n\
             worker.l.retry_interval=250\nworker.l.recover_time=120\nworker.l.max_reply_timeouts=5\n\
             worker.l.sticky_session_force=yes\nworker.l.session_cookie=SID\nworker.l.session_path=;sid\n\
             worker.l.set_session_cookie=on\nworker.l.session_cookie_path=/app",
        );
        let lb = workers.lb("l").expect("lb");
        assert_eq!(lb.members, ["a", "b"]);
        assert_eq!(lb.method, LbMethod::Busyness);
        assert_eq!(lb.lock, LbLock::Pessimistic);
        assert_eq!((lb.retries, lb.lb_retries), (3, 4));
        assert_eq!(lb.retry_interval, Duration::from_millis(250));
        assert_eq!(lb.recover_time, Duration::from_secs(120));
        assert_eq!(lb.error_escalation_time, Duration::from_secs(60));
        assert_eq!(lb.max_reply_timeouts, 5);
        assert!(lb.sticky_session_force && lb.set_session_cookie);
        assert_eq!(
            (lb.session_cookie.as_str(), lb.session_path.as_str()),
            ("SID", ";sid")
        );
        assert_eq!(lb.session_cookie_path, "/app");
        let members: Vec<&str> = workers.members(lb).map(|m| m.name.as_str()).collect();
        assert_eq!(members, ["a", "b"]);
    }

    #[test]
    fn lb_secret_is_inherited_by_members_without_their_own() {
        let workers = build(
            "worker.list=l\nworker.l.type=lb\nworker.l.secret=s3cret\nworker.l.balance_workers=a,b\n\
             worker.a.port=1\nworker.b.secret=own",
        );
        assert_eq!(ajp(&workers, "a").secret.as_deref(), Some("s3cret"));
        assert_eq!(ajp(&workers, "b").secret.as_deref(), Some("own"));
    }

    #[test]
    fn status_properties_are_typed() {
        let workers = build(
            "worker.list=s\nworker.s.type=status\nworker.s.css=/jk.css\nworker.s.ns=-\n\
             worker.s.read_only=true\nworker.s.user=alice,bob\nworker.s.user=carol\n\
             worker.s.good=a.o\nworker.s.bad=e",
        );
        let s = workers.status("s").expect("status");
        assert_eq!(s.css.as_deref(), Some("/jk.css"));
        assert_eq!(s.ns, "");
        assert!(s.read_only);
        assert_eq!(s.user, ["alice", "bob", "carol"]);
        assert_eq!((s.good_mask, s.bad_mask), (0x01, 0x0010_1010));
        assert_eq!(s.prefix, "worker");
    }

    #[test]
    fn mounts_of_listed_workers_keep_their_lines() {
        let workers = build("worker.list=a\nworker.a.mount=/app /app/*\nworker.a.mount=/other");
        let mounts: Vec<(String, String)> = workers
            .mounts
            .iter()
            .map(|m| (m.pattern.clone(), m.origin.to_string()))
            .collect();
        assert_eq!(
            mounts,
            [
                ("/app".to_owned(), "w:2".to_owned()),
                ("/app/*".to_owned(), "w:2".to_owned()),
                ("/other".to_owned(), "w:3".to_owned()),
            ]
        );
        assert_eq!(workers.get("a").map(|d| d.mounts().len()), Some(3));
    }

    #[test]
    fn a_member_typo_suggests_a_worker_that_is_not_a_member_yet() {
        let props =
            "worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=TomcatA,TomcatC\n\
                     worker.TomcatA.port=1\nworker.TomcatB.port=2\n";
        let mut p = Properties::new();
        p.parse_str(props, "w").unwrap();
        let errors = Workers::build(&p).unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(
            text.iter()
                .any(|e| e.contains("'TomcatC'") && e.ends_with("did you mean 'TomcatB'?")),
            "{text:?}"
        );
    }

    #[test]
    fn a_member_of_an_unlisted_lb_gets_no_lbfactor_warning() {
        // Debian's stock workers.properties: the lb is defined but not in worker.list.
        let workers = build(
            "worker.list=a\nworker.a.port=8009\nworker.a.lbfactor=1\n\
             worker.loadbalancer.type=lb\nworker.loadbalancer.balance_workers=a",
        );
        let found = warnings(&workers);
        assert!(!found.iter().any(|w| w.contains("lbfactor")), "{found:?}");
        assert!(
            found
                .iter()
                .any(|w| w.contains("'loadbalancer' is defined but not used")),
            "{found:?}"
        );
        let alone = build("worker.list=a\nworker.a.port=8009\nworker.a.lbfactor=1");
        assert!(warnings(&alone).iter().any(|w| w.contains("lbfactor")));
    }

    #[test]
    fn mount_on_an_unlisted_worker_is_an_error() {
        for text in [
            "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a\nworker.a.mount=/x",
            "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=b\nworker.b.port=1\nworker.a.mount=/x",
        ] {
            let mut p = Properties::new();
            p.parse_str(text, "w").unwrap();
            let errors: Vec<String> = Workers::build(&p)
                .unwrap_err()
                .iter()
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.iter().any(|e| e.contains("'worker.a.mount' mounts a worker that is not in worker.list")),
                "{errors:?}"
            );
        }
    }

    #[test]
    fn attribute_of_another_type_warns() {
        let workers = build(
            "worker.list=l,a\nworker.l.type=lb\nworker.l.balance_workers=m\nworker.l.host=x\n\
             worker.m.port=1\nworker.a.sticky_session=0\nworker.a.lbfactor=3",
        );
        assert_eq!(
            warnings(&workers),
            [
                "w:4: 'worker.l.host' has no effect on lb worker 'l'",
                "w:6: 'worker.a.sticky_session' has no effect on ajp13 worker 'a'",
                "w:7: 'worker.a.lbfactor' has no effect: worker 'a' is not a member of any lb worker",
            ]
        );
    }

    #[test]
    fn unused_worker_warns() {
        let workers = build("worker.list=a\nworker.a.port=1\nworker.typo.port=2");
        assert_eq!(
            warnings(&workers),
            ["w:3: worker 'typo' is defined but not used: it is not in worker.list, not an lb member and not a reference template"]
        );
    }

    #[test]
    fn redirect_to_unknown_route_warns() {
        let workers = build(
            "worker.list=l\nworker.l.type=lb\nworker.l.balance_workers=a,b\n\
             worker.a.redirect=b\nworker.b.redirect=nowhere",
        );
        assert_eq!(
            warnings(&workers),
            ["w:5: redirect 'nowhere' of worker 'b' is not the route of any member of lb worker 'l'"]
        );
    }

    #[test]
    fn member_shared_by_two_lbs_is_built_once() {
        let workers = build(
            "worker.list=l1,l2\nworker.l1.type=lb\nworker.l1.balance_workers=a\n\
             worker.l2.type=lb\nworker.l2.balance_workers=a\nworker.a.port=1",
        );
        assert_eq!(workers.defs.len(), 3);
        assert!(workers.warnings.is_empty(), "{:?}", workers.warnings);
    }
}
