//! Which worker and members a request's `w` and `sw` name (mod_jk reference §5.1): an lb
//! (optionally narrowed to members, `*`/`?` wildcards for update only) or a plain ajp13
//! worker; with mod_jk's error for each way of getting it wrong.

use super::error::StatusError;
use super::model::{AjpWorker, Balancer, Member, Snapshot, WorkerRef};
use super::request::StatusRequest;
use crate::mount::wildcard_match;

/// What `w` (+ `sw`) point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// An lb; `members` are the ones `sw` selected (all of them without `sw`).
    Balancer {
        lb: &'a Balancer,
        members: Vec<&'a Member>,
        narrowed: bool,
    },
    Ajp(&'a AjpWorker),
}

fn has_wildcard(text: &str) -> bool {
    text.contains(['*', '?'])
}

/// Resolves `w`/`sw` of `request` in `snapshot`; wildcards in `sw` only when
/// `allow_wildcards` (update).
pub fn resolve<'a>(
    snapshot: &'a Snapshot,
    request: &StatusRequest,
    allow_wildcards: bool,
) -> Result<Target<'a>, StatusError> {
    let name = request
        .worker
        .as_deref()
        .ok_or(StatusError::NoWorkerParam)?;
    let worker = snapshot
        .find_worker(name)
        .ok_or(StatusError::UnknownWorker)?;
    let lb = match (worker, request.member.as_deref()) {
        (WorkerRef::Balancer(lb), _) => lb,
        (WorkerRef::Ajp(ajp), None) => return Ok(Target::Ajp(ajp)),
        (WorkerRef::Ajp(_), Some(_)) => return Err(StatusError::NoMembers),
        // A status worker shows nothing and takes no edits.
        (WorkerRef::Status(_), _) => return Err(StatusError::UnknownWorker),
    };
    let Some(pattern) = request.member.as_deref() else {
        return Ok(Target::Balancer {
            lb,
            members: lb.members.iter().collect(),
            narrowed: false,
        });
    };
    let members: Vec<&Member> = if has_wildcard(pattern) {
        if !allow_wildcards {
            return Err(StatusError::WildcardNotAllowed);
        }
        lb.members
            .iter()
            .filter(|m| wildcard_match(pattern, &m.name))
            .collect()
    } else {
        lb.members.iter().filter(|m| m.name == pattern).collect()
    };
    if members.is_empty() {
        return Err(StatusError::UnknownMember);
    }
    Ok(Target::Balancer {
        lb,
        members,
        narrowed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{parse_query, testdata};

    fn target_of(query: &str, wildcards: bool) -> Result<Vec<String>, StatusError> {
        let snapshot = testdata::with_plain_worker();
        let request = parse_query(query).unwrap();
        Ok(match resolve(&snapshot, &request, wildcards)? {
            Target::Balancer { members, .. } => members.iter().map(|m| m.name.clone()).collect(),
            Target::Ajp(ajp) => vec![format!("ajp:{}", ajp.name)],
        })
    }

    #[test]
    fn members_are_named_with_sw_not_w() {
        assert_eq!(
            target_of("cmd=show&w=TomcatA", false),
            Err(StatusError::UnknownWorker)
        );
        assert_eq!(
            target_of("cmd=show&w=lbcluster&sw=TomcatA", false).unwrap(),
            ["TomcatA"]
        );
        assert_eq!(
            target_of("cmd=show&w=lbcluster", false).unwrap(),
            ["TomcatA", "TomcatB"]
        );
    }

    #[test]
    fn wildcards_match_members_only_where_allowed() {
        assert_eq!(
            target_of("w=lbcluster&sw=Tomcat?", true).unwrap(),
            ["TomcatA", "TomcatB"]
        );
        assert_eq!(
            target_of("w=lbcluster&sw=*B", false),
            Err(StatusError::WildcardNotAllowed)
        );
        assert_eq!(
            target_of("w=lbcluster&sw=X*", true),
            Err(StatusError::UnknownMember)
        );
    }

    #[test]
    fn missing_worker_and_members_of_plain_workers_fail() {
        assert_eq!(
            target_of("cmd=show", false),
            Err(StatusError::NoWorkerParam)
        );
        assert_eq!(target_of("w=stat1", false), Err(StatusError::UnknownWorker));
        assert_eq!(target_of("w=solo", false).unwrap(), ["ajp:solo"]);
        assert_eq!(target_of("w=solo&sw=x", false), Err(StatusError::NoMembers));
    }
}
