//! Units of quantities: memory, CPU and durations.
//!
//! The parser reads `512Mi`, `500m` and `20m` alike as a number and a unit; what the unit means
//! depends on where the quantity stands, and is decided here. Values are normalised to bytes,
//! millicores and milliseconds, and rendered back in the canonical forms Kubernetes keeps
//! (an integer with `Mi`/`Gi`, `m` for fractional CPU), so emitted YAML never drifts.

use flowc_grammar::ast::{Expr, ExprKind, Quantity};

/// Why a quantity was refused, worded for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitError {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

fn err(message: impl Into<String>, help: impl Into<String>) -> UnitError {
    UnitError {
        message: message.into(),
        help: help.into(),
    }
}

/// The byte count of a memory quantity such as `512Mi`, `2G` or `1.5Gi`.
pub fn memory_bytes(q: &Quantity) -> Result<u64, UnitError> {
    let factor: f64 = match q.unit.as_str() {
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "m" => {
            return Err(err(
                format!(
                    "`{}{}` means {} milli-bytes to Kubernetes, not megabytes",
                    q.number, q.unit, q.number
                ),
                format!(
                    "write `{}Mi` (mebibytes) or `{}M` (megabytes)",
                    q.number, q.number
                ),
            ))
        }
        other => {
            return Err(err(
                format!("`{other}` is not a memory unit"),
                "use Ki, Mi, Gi or Ti (powers of 2) or k, M, G or T (powers of 10)",
            ))
        }
    };
    let bytes = q.value * factor;
    if !(1.0..=1e18).contains(&bytes) {
        return Err(err(
            format!("memory `{}{}` is out of range", q.number, q.unit),
            "give at least one byte and at most an exabyte",
        ));
    }
    if bytes.fract() != 0.0 {
        return Err(err(
            format!("`{}{}` is not a whole number of bytes", q.number, q.unit),
            "use a smaller unit, such as `1536Mi` for `1.5Gi`",
        ));
    }
    Ok(bytes as u64)
}

/// The millicores of a CPU amount: a plain number of cores (`2`, `0.5`) or millicores (`500m`).
pub fn cpu_millis(e: &Expr) -> Result<u64, UnitError> {
    let millis = match &e.kind {
        ExprKind::Int(n) => (*n as f64) * 1000.0,
        ExprKind::Float(f) => f * 1000.0,
        ExprKind::Quantity(q) if q.unit == "m" => q.value,
        ExprKind::Quantity(q) => {
            return Err(err(
                format!("`{}{}` is not a CPU amount", q.number, q.unit),
                "write cores (`2`, `0.5`) or millicores (`500m`)",
            ))
        }
        _ => {
            return Err(err(
                "a CPU amount must be a number",
                "write cores (`2`, `0.5`) or millicores (`500m`)",
            ))
        }
    };
    if !(1.0..=1e9).contains(&millis) {
        return Err(err(
            "a CPU amount must be at least 1m",
            "write cores (`2`, `0.5`) or millicores (`500m`)",
        ));
    }
    if millis.fract() != 0.0 {
        return Err(err(
            "Kubernetes counts CPU in whole millicores",
            format!("round to `{}m`", millis.round()),
        ));
    }
    Ok(millis as u64)
}

/// The milliseconds of a duration such as `30s`, `20m`, `1d` or `250ms`.
pub fn duration_millis(q: &Quantity) -> Result<u64, UnitError> {
    let factor = match q.unit.as_str() {
        "ms" => 1.0,
        "s" => 1e3,
        "m" => 60e3,
        "h" => 3600e3,
        "d" => 86_400e3,
        other => {
            return Err(err(
                format!("`{other}` is not a unit of time"),
                "use ms, s, m, h or d, as in `30s`, `20m`, `1d`",
            ))
        }
    };
    let ms = q.value * factor;
    if ms.fract() != 0.0 || ms > 1e15 {
        return Err(err(
            format!(
                "`{}{}` is not a whole number of milliseconds",
                q.number, q.unit
            ),
            "use a smaller unit",
        ));
    }
    Ok(ms as u64)
}

/// Canonical Kubernetes form of a byte count: the largest binary unit that divides it.
pub fn format_memory(bytes: u64) -> String {
    const UNITS: [(u64, &str); 7] = [
        (1 << 40, "Ti"),
        (1 << 30, "Gi"),
        (1 << 20, "Mi"),
        (1 << 10, "Ki"),
        (1_000_000_000, "G"),
        (1_000_000, "M"),
        (1_000, "k"),
    ];
    // The unit giving the smallest whole number; binary units win ties.
    UNITS
        .iter()
        .filter(|(size, _)| bytes >= *size && bytes.is_multiple_of(*size))
        .min_by_key(|(size, _)| bytes / size)
        .map_or_else(
            || bytes.to_string(),
            |(size, unit)| format!("{}{unit}", bytes / size),
        )
}

/// Canonical Kubernetes form of millicores: whole cores as an integer, otherwise `NNNm`.
pub fn format_cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

/// A duration in the largest unit that divides it (`90s`, `20m`, `1d`).
pub fn format_duration(ms: u64) -> String {
    for (size, unit) in [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowc_grammar::Span;

    fn q(number: &str, unit: &str) -> Quantity {
        Quantity {
            number: number.into(),
            value: number.parse().unwrap_or(0.0),
            unit: unit.into(),
            span: Span::default(),
        }
    }

    #[test]
    fn memory_units() {
        assert_eq!(memory_bytes(&q("512", "Mi")), Ok(512 << 20));
        assert_eq!(memory_bytes(&q("1.5", "Gi")), Ok(1536 << 20));
        assert_eq!(memory_bytes(&q("2", "G")), Ok(2_000_000_000));
        assert_eq!(memory_bytes(&q("1", "K")), Ok(1000));
        assert!(memory_bytes(&q("512", "m")).is_err());
        assert!(memory_bytes(&q("5", "s")).is_err());
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(format_memory(1536 << 20), "1536Mi");
        assert_eq!(format_memory(16 << 30), "16Gi");
        assert_eq!(format_memory(2_000_000_000), "2G");
        assert_eq!(format_cpu(500), "500m");
        assert_eq!(format_cpu(2000), "2");
        assert_eq!(format_duration(20 * 60_000), "20m");
        assert_eq!(format_duration(86_400_000), "1d");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_millis(&q("20", "m")), Ok(1_200_000));
        assert_eq!(duration_millis(&q("1", "d")), Ok(86_400_000));
        assert!(duration_millis(&q("3", "Gi")).is_err());
    }
}
