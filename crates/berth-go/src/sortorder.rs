//! Natural order of names, as the docker CLI sorts `volume ls` and `network ls`
//! (`github.com/fvbommel/sortorder`'s `NaturalLess`): runs of digits compare by numeric value
//! (`v2` before `v10`), digits sort before other bytes, other bytes compare as bytes; equal
//! numbers with more leading zeros sort after (`a01` after `a1`), and a prefix sorts first.

use std::cmp::Ordering;

/// Compares `a` and `b` in natural order.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da != db {
            return if da {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        if !da {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
            continue;
        }
        let skip_zeros = |s: &[u8], mut k: usize| {
            while k < s.len() && s[k] == b'0' {
                k += 1;
            }
            k
        };
        let digits_end = |s: &[u8], mut k: usize| {
            while k < s.len() && s[k].is_ascii_digit() {
                k += 1;
            }
            k
        };
        let (za, zb) = (skip_zeros(a, i), skip_zeros(b, j));
        let (ea, eb) = (digits_end(a, za), digits_end(b, zb));
        // The number with fewer significant digits is smaller; equal lengths compare as text.
        let by_value = (ea - za)
            .cmp(&(eb - zb))
            .then_with(|| a[za..ea].cmp(&b[zb..eb]));
        if by_value != Ordering::Equal {
            return by_value;
        }
        // Same value: fewer leading zeros first.
        if za - i != zb - j {
            return (za - i).cmp(&(zb - j));
        }
        i = ea;
        j = eb;
    }
    (a.len() - i).cmp(&(b.len() - j))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_like_the_docker_cli() {
        let mut v = vec![
            "va",
            "v10",
            "v2",
            "v1a",
            "averyverylong",
            "v01",
            "v1",
            "a",
            "",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "",
                "a",
                "averyverylong",
                "v1",
                "v1a",
                "v01",
                "v2",
                "v10",
                "va"
            ]
        );
        let mut n = vec!["host", "n10", "none", "n2", "bridge"];
        n.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(n, ["bridge", "host", "n2", "n10", "none"]);
        assert_eq!(natural_cmp("x9", "x9"), Ordering::Equal);
        assert_eq!(natural_cmp("1", "a"), Ordering::Less);
    }
}
