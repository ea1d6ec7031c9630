//! A directive call: finds the directive by its place in the list, checks where it stands
//! (global only, `<Location>` only for JkMount/JkUnMount) and applies it to the server's
//! settings.
use super::JkModule;
use crate::directives::{spec_at, DirectiveContext, Scope};
use crate::httpd::CmdParms;

pub fn apply(cmd: &mut CmdParms<'_>, id: usize, words: &[&str]) -> Result<(), String> {
    let spec = spec_at(id).ok_or("mod_jk_rs: unknown directive")?;
    let name = cmd.name();
    if spec.scope == Scope::Global {
        cmd.refuse_unless_global()?;
    }
    let location = match cmd.section() {
        None => None,
        Some(sec) if sec.eq_ignore_ascii_case("<Location") => cmd.path(),
        Some(sec) => {
            return Err(format!(
                "{name} is not allowed inside {sec}>: use it at server level or inside <Location>"
            ))
        }
    };
    let ctx = DirectiveContext {
        origin: cmd.origin(),
        location,
        main_server: cmd.server().is_main(),
    };
    let resolver = cmd.resolver();
    let resolve = |p: &str| resolver.resolve(p);
    let Some(config) = cmd.server_config_mut::<JkModule>() else {
        return Err("mod_jk_rs: this server has no configuration".into());
    };
    config.settings.apply(spec.directive, &ctx, words, &resolve)
}
