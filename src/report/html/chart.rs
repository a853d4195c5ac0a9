//! The two pictures of the HTML report, drawn on the server as inline SVG
//! (no script needed, nothing fetched): when each key that may still work
//! was first committed, and how many findings each repository holds.
//! Every label from scanned data goes through [`crate::term::html`].

use crate::calendar::{civil_from_days, days_from_civil};
use crate::term::html;
use std::fmt::Write as _;

/// One key on the exposure chart.
pub(super) struct Exposure<'a> {
    pub key: &'a str,
    /// Days since 1970-01-01 of its first commit.
    pub day: i64,
    /// `true`: verified live; `false`: not known to be dead.
    pub live: bool,
    pub at_head: bool,
}

/// Keys drawn at most; the rest are counted under the chart.
pub(super) const MAX_KEYS: usize = 40;
/// Repositories drawn at most.
pub(super) const MAX_REPOS: usize = 20;
/// Characters of a repository name that fit left of its bar.
const LABEL: usize = 26;

const WIDTH: i64 = 640;
const LEFT: i64 = 170;
const RIGHT: i64 = 20;
const ROW: i64 = 18;
const TOP: i64 = 10;
const AXIS: i64 = 30;

/// Days since 1970-01-01 of an RFC 3339 date (`YYYY-MM-DD…`), or `None`
/// when it does not start with a real calendar date. Reads characters, not
/// byte offsets: the date may come from a report read back.
pub(super) fn day_number(date: &str) -> Option<i64> {
    let head: String = date.chars().take(10).collect();
    let mut parts = head.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 || parts.next().is_some() {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(y) && all_digits(m) && all_digits(d)) {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` of a day number, or `YYYY-MM` without the day (the
/// inverse of [`days_from_civil`]).
fn date_label(days: i64, with_day: bool) -> String {
    let (y, m, d) = civil_from_days(days);
    if with_day {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:04}-{m:02}")
    }
}

/// The exposure timeline: one row per key, a dot at its first commit, and
/// a line on to the right edge while it is still at HEAD (a hollow dot: in
/// history only). `keys` come most urgent first.
pub(super) fn exposure(keys: &[Exposure<'_>]) -> String {
    let drawn = &keys[..keys.len().min(MAX_KEYS)];
    let (Some(first), Some(last)) = (
        drawn.iter().map(|k| k.day).min(),
        drawn.iter().map(|k| k.day).max(),
    ) else {
        return String::new();
    };
    // At least a month wide, so one date does not sit on both edges.
    let (lo, hi) = if last - first < 30 {
        (first - 15, last + 15)
    } else {
        (first, last)
    };
    let plot = WIDTH - LEFT - RIGHT;
    let x = |day: i64| LEFT + (day - lo) * plot / (hi - lo);
    let height = TOP + ROW * drawn.len() as i64 + AXIS;
    let axis_y = TOP + ROW * drawn.len() as i64 + 4;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg id=\"exposure\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"exposure-title\"><title id=\"exposure-title\">First commit of each key that may still work</title>"
    );
    for (i, k) in drawn.iter().enumerate() {
        let y = TOP + ROW * i as i64 + ROW / 2;
        let class = if k.live { "live" } else { "unknown" };
        let cx = x(k.day);
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"mono\">{}</text>",
            LEFT - 8,
            y + 4,
            html(k.key)
        );
        if k.at_head {
            let _ = write!(
                s,
                "<line class=\"span {class}\" x1=\"{cx}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/><circle class=\"{class}\" cx=\"{cx}\" cy=\"{y}\" r=\"5\"/>",
                WIDTH - RIGHT
            );
        } else {
            let _ = write!(
                s,
                "<circle class=\"{class} gone\" cx=\"{cx}\" cy=\"{y}\" r=\"5\"/>"
            );
        }
    }
    let _ = write!(
        s,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\"/>",
        WIDTH - RIGHT
    );
    // Days on the ticks when the span is short enough for months to repeat.
    let with_day = hi - lo < 400;
    for t in 0..=4 {
        let day = lo + (hi - lo) * t / 4;
        let anchor = match t {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            s,
            "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            x(day),
            axis_y + 16,
            date_label(day, with_day)
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars: findings per repository, most first (`repos` already
/// in that order).
pub(super) fn per_repository(repos: &[(&str, usize)]) -> String {
    let drawn = &repos[..repos.len().min(MAX_REPOS)];
    let Some(most) = drawn.iter().map(|r| r.1).max().filter(|m| *m > 0) else {
        return String::new();
    };
    let plot = WIDTH - LEFT - RIGHT - 40;
    let height = TOP * 2 + ROW * drawn.len() as i64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg id=\"per-repo\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"per-repo-title\"><title id=\"per-repo-title\">Findings per repository</title>"
    );
    for (i, (name, count)) in drawn.iter().enumerate() {
        let y = TOP + ROW * i as i64;
        let w = (*count as i64 * plot / most as i64).max(2);
        // The end of a long name tells repositories apart (`…/acme/api.git`).
        let chars = name.chars().count();
        let label: String = if chars > LABEL {
            std::iter::once('…')
                .chain(name.chars().skip(chars - (LABEL - 1)))
                .collect()
        } else {
            name.to_string()
        };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect class=\"bar\" x=\"{LEFT}\" y=\"{}\" width=\"{w}\" height=\"{}\"/><text x=\"{}\" y=\"{}\">{count}</text>",
            LEFT - 8,
            y + 13,
            html(&label),
            y + 3,
            ROW - 6,
            LEFT + w + 6,
            y + 13,
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_days() {
        assert_eq!(day_number("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(day_number("2026-01-02T03:04:05+00:00"), Some(20_455));
        assert_eq!(day_number("2024-02-29"), Some(19_782));
        assert_eq!(date_label(20_455, true), "2026-01-02");
        assert_eq!(date_label(20_455, false), "2026-01");
        assert_eq!(date_label(19_782, true), "2024-02-29");
        assert_eq!(date_label(0, true), "1970-01-01");
        for bad in [
            "",
            "2023-02-29",
            "2026-13-01",
            "2026-1-02",
            "20é6-01-02",
            "abcd-ef-gh",
            "+026-01-02",
            "2026-01-00",
        ] {
            assert_eq!(day_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn exposure_draws_a_row_per_key_and_escapes_labels() {
        let keys = [
            Exposure {
                key: "AKIA<b>",
                day: 20_000,
                live: true,
                at_head: true,
            },
            Exposure {
                key: "AKIA2",
                day: 20_400,
                live: false,
                at_head: false,
            },
        ];
        let svg = exposure(&keys);
        assert!(svg.contains("AKIA&lt;b&gt;"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches("class=\"unknown gone\"").count(), 1);
        assert_eq!(svg.matches("class=\"span live\"").count(), 1);
        assert!(exposure(&[]).is_empty());
    }

    #[test]
    fn bars_are_proportional_and_capped() {
        let names: Vec<String> = (0..30).map(|i| format!("repo-{i}")).collect();
        let repos: Vec<(&str, usize)> = names.iter().map(|n| (n.as_str(), 10)).collect();
        let svg = per_repository(&repos);
        assert_eq!(svg.matches("<rect").count(), MAX_REPOS);
        let svg = per_repository(&[("a\"<x>", 4), ("b", 2)]);
        let long = per_repository(&[("https://github.com/acme/a-very-long-name.git", 1)]);
        assert!(long.contains(">…acme/a-very-long-name.git<"), "{long}");
        assert!(svg.contains("a&quot;&lt;x&gt;"), "{svg}");
        assert!(
            svg.contains("width=\"410\"") && svg.contains("width=\"205\""),
            "{svg}"
        );
    }
}
