//! The good/degraded/bad rating of lb members (mod_jk reference §5.4) from the status
//! worker's `good` and `bad` masks, and the per-lb counts the formats show.

use super::model::{Balancer, Member};
use crate::balancer::State;
use crate::config::Rating;

/// How the status page rates a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Good,
    Degraded,
    Bad,
}

impl Health {
    pub fn name(self) -> &'static str {
        match self {
            Health::Good => "good",
            Health::Degraded => "degraded",
            Health::Bad => "bad",
        }
    }
}

/// The state letter's mask: recovering, forced recovery and probing all count as `r`.
fn state_mask(state: State) -> u32 {
    match state {
        State::OkIdle => Rating::IDLE,
        State::Ok => Rating::OK,
        State::Busy => Rating::BUSY,
        State::Recovering | State::ForcedRecovery | State::Probing => Rating::RECOVER,
        State::Error => Rating::ERROR,
    }
}

/// `bad` is checked first, then `good`; anything else is degraded.
pub fn rate(member: &Member, good_mask: u32, bad_mask: u32) -> Health {
    let bits = Rating::member_bits(member.activation, state_mask(member.state));
    if bits & bad_mask != 0 {
        Health::Bad
    } else if bits & good_mask != 0 {
        Health::Good
    } else {
        Health::Degraded
    }
}

/// How many members of an lb are good, degraded and bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub good: usize,
    pub degraded: usize,
    pub bad: usize,
}

pub fn summarize(lb: &Balancer, good_mask: u32, bad_mask: u32) -> Summary {
    let mut summary = Summary::default();
    for member in &lb.members {
        match rate(member, good_mask, bad_mask) {
            Health::Good => summary.good += 1,
            Health::Degraded => summary.degraded += 1,
            Health::Bad => summary.bad += 1,
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, StatusWorker};
    use crate::status::testdata;

    fn rated(activation: Activation, state: State) -> Health {
        let defaults = StatusWorker::with_defaults("s");
        let mut member = testdata::member("m", 1);
        member.activation = activation;
        member.state = state;
        rate(&member, defaults.good_mask, defaults.bad_mask)
    }

    #[test]
    fn default_rules_rate_like_mod_jk() {
        use Activation::*;
        assert_eq!(rated(Active, State::Ok), Health::Good);
        assert_eq!(rated(Active, State::OkIdle), Health::Good);
        assert_eq!(rated(Active, State::Busy), Health::Good);
        assert_eq!(rated(Active, State::Recovering), Health::Good);
        assert_eq!(rated(Active, State::Probing), Health::Good);
        assert_eq!(rated(Active, State::Error), Health::Bad);
        assert_eq!(rated(Disabled, State::Ok), Health::Degraded);
        assert_eq!(rated(Disabled, State::Error), Health::Bad);
        assert_eq!(rated(Stopped, State::Ok), Health::Bad);
    }

    #[test]
    fn custom_rules_check_bad_before_good() {
        let good = Rating::parse_rule("a").unwrap();
        let bad = Rating::parse_rule("a.b").unwrap();
        let mut member = testdata::member("m", 1);
        member.state = State::Busy;
        assert_eq!(rate(&member, good, bad), Health::Bad);
        member.state = State::Ok;
        assert_eq!(rate(&member, good, bad), Health::Good);
    }

    #[test]
    fn summary_counts_the_disabled_member_as_degraded() {
        let mut lb = testdata::balancer();
        lb.members[1].activation = Activation::Disabled;
        let defaults = StatusWorker::with_defaults("s");
        let summary = summarize(&lb, defaults.good_mask, defaults.bad_mask);
        assert_eq!((summary.good, summary.degraded, summary.bad), (1, 1, 0));
    }
}
