//! Inline SVG charts, written by hand so that the page needs no script and no external resource.
//! Coordinates are printed with one decimal so the output is byte-stable.

use super::markdown::Totals;
use crate::history::{Execution, Outcome};
use crate::units::GIB;
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// Escapes text for XML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn gib(bytes: f64) -> String {
    format!("{:.2} GiB", bytes / GIB as f64)
}

/// Observed peaks over time against the limits in force (grey steps) and the new limit (green).
/// OOM kills are red crosses at the limit that was killed.
pub fn peaks_chart(title: &str, runs: &[Execution], new_limit: u64) -> String {
    let mut out = String::new();
    let _ = write!(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{}\">", escape(title));
    let runs: Vec<&Execution> = runs
        .iter()
        .filter(|e| e.outcome != Outcome::Cached)
        .collect();
    if runs.is_empty() {
        out.push_str("<text x=\"10\" y=\"20\">no executions</text></svg>");
        return out;
    }
    let t0 = runs.iter().map(|e| e.start_ms).min().unwrap_or(0) as f64;
    let t1 = (runs.iter().map(|e| e.start_ms).max().unwrap_or(0) as f64).max(t0 + 1.0);
    let ymax = runs
        .iter()
        .flat_map(|e| {
            [
                e.peak_memory_bytes.unwrap_or(0),
                e.memory_in_force().unwrap_or(0),
            ]
        })
        .chain([new_limit])
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    let x = |t: f64| LEFT + (t - t0) / (t1 - t0) * (W - LEFT - RIGHT);
    let y = |v: f64| H - BOTTOM - v / ymax * (H - TOP - BOTTOM);
    // Axes and y ticks.
    let _ = write!(
        out,
        "<g font-family=\"sans-serif\" font-size=\"10\" fill=\"#444\">"
    );
    for i in 0..=4 {
        let v = ymax / 1.1 * f64::from(i) / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            y(v),
            y(v),
            LEFT - 4.0,
            y(v) + 3.0,
            gib(v)
        );
    }
    let _ = write!(
        out,
        "<text x=\"{LEFT}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text></g>",
        H - 8.0,
        crate::time::format_timestamp(t0 as i64),
        W - RIGHT,
        H - 8.0,
        crate::time::format_timestamp(t1 as i64)
    );
    // Limits in force over time.
    let mut path = String::new();
    for e in &runs {
        if let Some(l) = e.memory_in_force() {
            let cmd = if path.is_empty() { 'M' } else { 'L' };
            let _ = write!(path, "{cmd}{:.1},{:.1} ", x(e.start_ms as f64), y(l as f64));
        }
    }
    if !path.is_empty() {
        let _ = write!(out, "<path d=\"{}\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 3\"><title>old limit</title></path>", path.trim_end());
    }
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#2a8a3a\" stroke-width=\"2\"><title>new limit {}</title></line>",
        W - RIGHT,
        y(new_limit as f64),
        y(new_limit as f64),
        gib(new_limit as f64)
    );
    for e in &runs {
        let cx = x(e.start_ms as f64);
        match (e.outcome, e.peak_memory_bytes, e.memory_in_force()) {
            (Outcome::Oom, _, Some(l)) => {
                let cy = y(l as f64);
                let _ = write!(
                    out,
                    "<path d=\"M{:.1},{:.1} L{:.1},{:.1} M{:.1},{:.1} L{:.1},{:.1}\" stroke=\"#c0392b\" stroke-width=\"2\"><title>OOM-killed at {}</title></path>",
                    cx - 4.0, cy - 4.0, cx + 4.0, cy + 4.0, cx - 4.0, cy + 4.0, cx + 4.0, cy - 4.0, gib(l as f64)
                );
            }
            (_, Some(p), _) => {
                let _ = write!(out, "<circle cx=\"{cx:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#2f6db5\"><title>{} peak {}</title></circle>", y(p as f64), escape(&e.task), gib(p as f64));
            }
            _ => {}
        }
    }
    out.push_str("</svg>");
    out
}

/// Reserved memory before and after, split into used and unused.
pub fn totals_chart(t: &Totals) -> String {
    let width = 640.0;
    let height = 90.0;
    let max = t
        .reserved_before
        .max(t.reserved_after)
        .max(t.used)
        .max(1e-9);
    let scale = |v: f64| v / max * (width - 180.0);
    let mut out = String::new();
    let _ = write!(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"memory reserved before and after\">");
    let _ = write!(
        out,
        "<g font-family=\"sans-serif\" font-size=\"11\" fill=\"#333\">"
    );
    for (i, (label, reserved)) in [("before", t.reserved_before), ("after", t.reserved_after)]
        .into_iter()
        .enumerate()
    {
        let yy = 10.0 + i as f64 * 38.0;
        let used = t.used.min(reserved);
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{:.1}\">{label}</text><rect x=\"60\" y=\"{yy:.1}\" width=\"{:.1}\" height=\"24\" fill=\"#2f6db5\"><title>used {:.1} GB·h</title></rect><rect x=\"{:.1}\" y=\"{yy:.1}\" width=\"{:.1}\" height=\"24\" fill=\"#f0b44c\"><title>unused {:.1} GB·h</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{:.1} GB·h</text>",
            yy + 16.0,
            scale(used),
            used,
            60.0 + scale(used),
            scale(reserved - used),
            reserved - used,
            66.0 + scale(reserved),
            yy + 16.0,
            reserved
        );
    }
    out.push_str("</g></svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_and_escape_text() {
        let mut e = Execution::new("p", "s", 0, 10.0);
        e.peak_memory_bytes = Some(GIB);
        e.memory_limit_bytes = Some(2 * GIB);
        e.task = "a<b".into();
        let svg = peaks_chart("p/s", &[e], GIB);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("a&lt;b"));
        let t = totals_chart(&Totals {
            reserved_before: 10.0,
            reserved_after: 5.0,
            used: 4.0,
        });
        assert!(t.contains("10.0 GB·h"));
    }
}
