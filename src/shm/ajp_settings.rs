//! The connection settings of an ajp13 worker as its shared records hold them (mod_jk keeps
//! the same in `jk_shm_ajp_worker_t`): host, port, pool timeout, CPing and reply timeouts,
//! retries, recovery options, packet size — what the status page changes at run time
//! (`vahst`…`vacpi`, reference §5.2) and every process picks up for its next request.
//!
//! In a record the numbers are [`AJP_WORDS`] 32-bit words side by side (times in the unit the
//! status page uses, 0 = unset), the host a 64-byte text slot; both under the record's seqlock.

use std::time::Duration;

use super::records::edited;
use super::text::ShortText;
use crate::config::AjpWorker;

/// How many 32-bit words a record spends on the numbers of [`AjpSettings`].
pub const AJP_WORDS: usize = 11;

/// The [`edited`] bit of each word, in word order.
pub(crate) const WORD_BITS: [u64; AJP_WORDS] = [
    edited::PORT,
    edited::CONNECTION_POOL_TIMEOUT,
    edited::PING_TIMEOUT,
    edited::CONNECT_TIMEOUT,
    edited::PREPOST_TIMEOUT,
    edited::REPLY_TIMEOUT,
    edited::AJP_RETRIES,
    edited::AJP_RETRY_INTERVAL,
    edited::RECOVERY_OPTIONS,
    edited::MAX_PACKET_SIZE,
    edited::CONNECTION_PING_INTERVAL,
];

/// One ajp13 worker's connection settings, in the status page's units; 0 is "not set" for
/// the optional timeouts and intervals, as in workers.properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AjpSettings {
    /// Empty: the configured host, which a record cannot hold (a Unix socket path, a name
    /// longer than mod_jk's 60 bytes); such a worker's address is fixed.
    pub host: ShortText,
    pub port: u16,
    pub connection_pool_timeout_s: u32,
    pub ping_timeout_ms: u32,
    /// CPing after connect.
    pub connect_timeout_ms: u32,
    /// CPing before a request on a pooled connection.
    pub prepost_timeout_ms: u32,
    pub reply_timeout_ms: u32,
    /// Attempts including the first (min 1).
    pub retries: u32,
    pub retry_interval_ms: u32,
    pub recovery_options: u32,
    /// 8192..=65536, a multiple of 1024.
    pub max_packet_size: u32,
    pub connection_ping_interval_s: u32,
}

impl AjpSettings {
    /// The configured settings of `worker`.
    pub fn from_config(worker: &AjpWorker) -> AjpSettings {
        let host = match worker.unix_socket {
            Some(_) => ShortText::EMPTY,
            None => ShortText::new(&worker.host).unwrap_or(ShortText::EMPTY),
        };
        AjpSettings {
            host,
            port: worker.port,
            connection_pool_timeout_s: seconds(worker.connection_pool_timeout),
            ping_timeout_ms: millis(Some(worker.ping_timeout)),
            connect_timeout_ms: millis(worker.connect_timeout),
            prepost_timeout_ms: millis(worker.prepost_timeout),
            reply_timeout_ms: millis(worker.reply_timeout),
            retries: worker.retries.max(1),
            retry_interval_ms: millis(Some(worker.retry_interval)),
            recovery_options: worker.recovery_options,
            max_packet_size: u32::try_from(worker.max_packet_size).unwrap_or(u32::MAX),
            connection_ping_interval_s: seconds(worker.connection_ping_interval),
        }
    }

    /// The numbers as a record stores them, in word order.
    pub(crate) fn words(&self) -> [u32; AJP_WORDS] {
        [
            u32::from(self.port),
            self.connection_pool_timeout_s,
            self.ping_timeout_ms,
            self.connect_timeout_ms,
            self.prepost_timeout_ms,
            self.reply_timeout_ms,
            self.retries,
            self.retry_interval_ms,
            self.recovery_options,
            self.max_packet_size,
            self.connection_ping_interval_s,
        ]
    }

    /// The settings a record's host slot and words describe.
    pub(crate) fn from_words(host: ShortText, w: [u32; AJP_WORDS]) -> AjpSettings {
        AjpSettings {
            host,
            port: u16::try_from(w[0]).unwrap_or(u16::MAX),
            connection_pool_timeout_s: w[1],
            ping_timeout_ms: w[2],
            connect_timeout_ms: w[3],
            prepost_timeout_ms: w[4],
            reply_timeout_ms: w[5],
            retries: w[6].max(1),
            retry_interval_ms: w[7],
            recovery_options: w[8],
            max_packet_size: w[9],
            connection_ping_interval_s: w[10],
        }
    }

    /// [`edited`] bits of what differs between `self` and `other`.
    pub(crate) fn differences(&self, other: &AjpSettings) -> u64 {
        let host = if self.host == other.host {
            0
        } else {
            edited::HOST
        };
        self.words()
            .iter()
            .zip(other.words())
            .zip(WORD_BITS)
            .filter(|((a, b), _)| **a != *b)
            .fold(host, |bits, (_, bit)| bits | bit)
    }

    /// `self` with the settings `bits` marks taken from `old`.
    pub(crate) fn taking(&self, old: &AjpSettings, bits: u64) -> AjpSettings {
        let host = if bits & edited::HOST != 0 {
            old.host
        } else {
            self.host
        };
        let mut words = self.words();
        for ((word, old_word), bit) in words.iter_mut().zip(old.words()).zip(WORD_BITS) {
            if bits & bit != 0 {
                *word = old_word;
            }
        }
        AjpSettings::from_words(host, words)
    }
}

fn millis(d: Option<Duration>) -> u32 {
    d.map_or(0, |d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX))
}

fn seconds(d: Option<Duration>) -> u32 {
    d.map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn words_round_trip_and_each_word_has_its_own_edited_bit() {
        let mut w = AjpWorker::with_defaults("a");
        w.reply_timeout = Some(Duration::from_millis(1500));
        w.connection_pool_timeout = Some(Duration::from_secs(60));
        let s = AjpSettings::from_config(&w);
        assert_eq!(AjpSettings::from_words(s.host, s.words()), s);
        assert_eq!(
            (s.reply_timeout_ms, s.connection_pool_timeout_s),
            (1500, 60)
        );
        assert_eq!(
            (s.host.as_str(), s.port, s.max_packet_size),
            ("localhost", 8009, 8192)
        );
        let mut bits = WORD_BITS.to_vec();
        bits.push(edited::HOST);
        bits.sort_unstable();
        bits.dedup();
        assert_eq!(bits.len(), AJP_WORDS + 1);
    }

    #[test]
    fn differences_and_taking_are_per_setting() {
        let base = AjpSettings::from_config(&AjpWorker::with_defaults("a"));
        let mut edited_one = base;
        edited_one.reply_timeout_ms = 900;
        edited_one.host = ShortText::new("10.0.0.2").expect("fits");
        let bits = edited_one.differences(&base);
        assert_eq!(bits, edited::REPLY_TIMEOUT | edited::HOST);
        let mut newer_config = base;
        newer_config.retries = 4;
        let kept = newer_config.taking(&edited_one, bits);
        assert_eq!((kept.reply_timeout_ms, kept.retries), (900, 4));
        assert_eq!(kept.host.as_str(), "10.0.0.2");
    }

    #[test]
    fn a_host_a_record_cannot_hold_is_left_empty() {
        let mut unix = AjpWorker::with_defaults("u");
        unix.host = "unix:/run/ajp.sock".into();
        unix.unix_socket = Some(PathBuf::from("/run/ajp.sock"));
        assert!(AjpSettings::from_config(&unix).host.is_empty());
        let mut long = AjpWorker::with_defaults("l");
        long.host = "h".repeat(61);
        assert!(AjpSettings::from_config(&long).host.is_empty());
    }
}
