//! Calendar text for a [`Timestamp`]: mod_jk's `datetime` (`YYYYMMDDhhmmss`) and `tz`
//! (`+hhmm`) pair, and the `YYYY-MM-DD hh:mm:ss +hhmm` the HTML page shows. Pure arithmetic.

use super::model::Timestamp;

/// Local calendar fields of a timestamp.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

fn civil(time: Timestamp) -> Civil {
    let local = time.unix + i64::from(time.utc_offset_minutes) * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400) as u32;
    // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: secs / 3600,
        minute: secs / 60 % 60,
        second: secs % 60,
    }
}

/// `YYYYMMDDhhmmss` in local time.
pub fn datetime(time: Timestamp) -> String {
    let c = civil(time);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `+hhmm` / `-hhmm`.
pub fn tz(time: Timestamp) -> String {
    let offset = time.utc_offset_minutes;
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!("{sign}{:02}{:02}", abs / 60, abs % 60)
}

/// `YYYY-MM-DD hh:mm:ss +hhmm`.
pub fn readable(time: Timestamp) -> String {
    let c = civil(time);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {}",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        tz(time)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: i64, utc_offset_minutes: i32) -> Timestamp {
        Timestamp {
            unix,
            utc_offset_minutes,
        }
    }

    #[test]
    fn sample_time_formats_like_mod_jk() {
        let time = at(1_795_481_718, 0);
        assert_eq!(datetime(time), "20261124005518");
        assert_eq!(tz(time), "+0000");
        assert_eq!(readable(time), "2026-11-24 00:55:18 +0000");
    }

    #[test]
    fn offsets_move_the_local_time_and_show_in_tz() {
        assert_eq!(datetime(at(0, 0)), "19700101000000");
        assert_eq!(datetime(at(0, -330)), "19691231183000");
        assert_eq!(tz(at(0, -330)), "-0530");
        assert_eq!(tz(at(0, 60)), "+0100");
        assert_eq!(datetime(at(951_825_600, 0)), "20000229120000");
    }
}
