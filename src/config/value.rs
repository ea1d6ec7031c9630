//! Value syntax shared by workers.properties and mount rules: booleans (mod_jk §2.1),
//! integers with mod_jk's `k`/`M` suffixes, comma/space lists, and "did you mean" suggestions.

/// A boolean as mod_jk reads it (§2.1): `0`/`1`, `off`/`on`, or any word starting with
/// `f`/`n` (false) or `t`/`y` (true), case-insensitive. Anything else is `None`.
pub fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    if text == "0" || text.eq_ignore_ascii_case("off") {
        return Some(false);
    }
    if text == "1" || text.eq_ignore_ascii_case("on") {
        return Some(true);
    }
    match text.bytes().next().map(|b| b.to_ascii_lowercase()) {
        Some(b'f') | Some(b'n') => Some(false),
        Some(b't') | Some(b'y') => Some(true),
        _ => None,
    }
}

/// Reads a keyword the way mod_jk does (by its first letter, or a digit standing for its
/// position) but only when the word is a plausible spelling: the word and the keyword must
/// be prefixes of one another, case-insensitive (`B`, `busy`, `Busyness`, `Requests`), so a
/// word like `random` is not silently taken as `Request`.
pub(crate) fn keyword<T: Copy>(text: &str, choices: &[(&str, T)]) -> Option<T> {
    let word = text.trim().to_ascii_lowercase();
    if let Ok(index) = word.parse::<usize>() {
        return choices.get(index).map(|(_, value)| *value);
    }
    if word.is_empty() {
        return None;
    }
    choices.iter().find_map(|(name, value)| {
        let name = name.to_ascii_lowercase();
        (name.starts_with(&word) || word.starts_with(&name)).then_some(*value)
    })
}

/// Why a number did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberError {
    NotANumber,
    TooLarge,
}

/// An integer as mod_jk reads it: optional sign, decimal digits and an optional `k`/`K`
/// (×1024) or `m`/`M` (×1024²) suffix. Unlike mod_jk (which stops at the first bad
/// character and keeps what it read) trailing junk is an error, so `10s` is caught.
pub(crate) fn parse_int(text: &str) -> Result<i64, NumberError> {
    let text = text.trim();
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (digits, multiplier) = match rest.bytes().last() {
        Some(b'k') | Some(b'K') => (&rest[..rest.len() - 1], 1024_i64),
        Some(b'm') | Some(b'M') => (&rest[..rest.len() - 1], 1024 * 1024),
        _ => (rest, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    let magnitude: i64 = digits.parse().map_err(|_| NumberError::TooLarge)?;
    let value = magnitude
        .checked_mul(multiplier)
        .ok_or(NumberError::TooLarge)?;
    // mod_jk keeps every number in a C int; larger values are typos, not intentions.
    if value > i64::from(i32::MAX) {
        return Err(NumberError::TooLarge);
    }
    Ok(if negative { -value } else { value })
}

/// Items of a list value: separated by commas, spaces or tabs, empty items dropped
/// (mod_jk splits every list property on `" \t,"`).
pub(crate) fn list_items(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', ' ', '\t']).filter(|item| !item.is_empty())
}

/// The closest known name to `word`, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    let allowed = match word.len() {
        0..=3 => 1,
        4..=8 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in known {
        let distance = edit_distance(&word_lower, &candidate.to_ascii_lowercase());
        let better = match best {
            Some((d, _)) => distance < d,
            None => true,
        };
        if distance <= allowed && better {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, name)| name)
}

/// ` — did you mean '<prefix><name>'?` for the closest known name, or "" when none is close.
pub fn did_you_mean<'a>(
    word: &str,
    known: impl IntoIterator<Item = &'a str>,
    prefix: &str,
) -> String {
    match suggest(word, known) {
        Some(close) => format!("; did you mean '{prefix}{close}'?"),
        None => String::new(),
    }
}

/// Levenshtein distance, counting an adjacent swap as one edit (typists swap letters).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<u8> = a.bytes().collect();
    let b: Vec<u8> = b.bytes().collect();
    // rows[i][j] = distance between a[..i] and b[..j]; three rows are enough for swaps.
    let width = b.len() + 1;
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..width {
            let same = a.get(i - 1) == b.get(j - 1);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + usize::from(!same));
            let swapped =
                i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1);
            if swapped {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_mod_jk_words() {
        let cases = [
            ("0", Some(false)),
            ("1", Some(true)),
            ("off", Some(false)),
            ("ON", Some(true)),
            ("false", Some(false)),
            ("No", Some(false)),
            ("n", Some(false)),
            ("True", Some(true)),
            ("yes", Some(true)),
            ("Y", Some(true)),
            ("2", None),
            ("", None),
            ("maybe", None),
            ("01", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_bool(text), expected, "parse_bool({text:?})");
        }
    }

    #[test]
    fn integers_accept_sign_and_binary_suffixes() {
        let cases = [
            ("8009", Ok(8009)),
            ("+5", Ok(5)),
            ("-1", Ok(-1)),
            (" 42 ", Ok(42)),
            ("8k", Ok(8192)),
            ("64K", Ok(65536)),
            ("1M", Ok(1_048_576)),
            ("10s", Err(NumberError::NotANumber)),
            ("abc", Err(NumberError::NotANumber)),
            ("", Err(NumberError::NotANumber)),
            ("-", Err(NumberError::NotANumber)),
            ("k", Err(NumberError::NotANumber)),
            ("1.5", Err(NumberError::NotANumber)),
            ("99999999999999999999999", Err(NumberError::TooLarge)),
            ("4096M", Err(NumberError::TooLarge)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_int(text), expected, "parse_int({text:?})");
        }
    }

    #[test]
    fn keywords_accept_prefixes_and_position_digits() {
        let choices = [("Request", 'R'), ("Traffic", 'T'), ("Sessions", 'S')];
        let cases = [
            ("R", Some('R')),
            ("request", Some('R')),
            ("Requests", Some('R')),
            ("Session", Some('S')),
            ("2", Some('S')),
            ("3", None),
            ("random", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(keyword(text, &choices), expected, "{text:?}");
        }
    }

    #[test]
    fn list_items_split_on_comma_space_and_tab() {
        let items: Vec<&str> = list_items("a, b,,c\td  e").collect();
        assert_eq!(items, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn suggestion_finds_one_letter_typo() {
        let known = ["sticky_session", "sticky_session_force", "session_cookie"];
        assert_eq!(suggest("sticky_sesion", known), Some("sticky_session"));
    }

    #[test]
    fn suggestion_counts_swapped_letters_as_one_edit() {
        assert_eq!(suggest("prot", ["port", "host"]), Some("port"));
    }

    #[test]
    fn suggestion_ignores_case() {
        assert_eq!(suggest("Port", ["port"]), Some("port"));
    }

    #[test]
    fn hint_text_names_the_closest_with_prefix() {
        assert_eq!(
            did_you_mean("tmpl", ["templ", "other"], "worker."),
            "; did you mean 'worker.templ'?"
        );
        assert_eq!(did_you_mean("zzzz", ["templ"], ""), "");
    }

    #[test]
    fn no_suggestion_for_unrelated_word() {
        assert_eq!(suggest("banana", ["port", "host", "lbfactor"]), None);
    }
}
