//! Kubernetes resource quantities: parsing (`512Mi`, `2G`, `500m`, `1.5`) and formatting
//! (memory as `Mi`/`Gi` quantities, CPU as millicores), plus the byte constants used elsewhere.

/// One mebibyte.
pub const MIB: u64 = 1 << 20;
/// One gibibyte.
pub const GIB: u64 = 1 << 30;
/// Bytes in the decimal gigabyte used for GB·h figures.
pub const GB: f64 = 1e9;

/// Splits a quantity into its number and suffix.
fn split(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let idx = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (n, suffix) = text.split_at(idx);
    // An exponent form such as `1e3` is a valid quantity.
    if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
        if let Ok(e) = exp.parse::<i32>() {
            let v: f64 = n.parse().ok()?;
            return Some((v * 10f64.powi(e), ""));
        }
    }
    let v: f64 = n.parse().ok()?;
    v.is_finite().then_some((v, suffix))
}

/// Parses a memory quantity into bytes: `Ki Mi Gi Ti Pi Ei`, `k K M G T P E`, `m` (milli-bytes)
/// or a plain number.
pub fn parse_memory(text: &str) -> Option<u64> {
    let (v, suffix) = split(text)?;
    let mult = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => MIB as f64,
        "Gi" => GIB as f64,
        "Ti" => (GIB as f64) * 1024.0,
        "Pi" => (GIB as f64) * 1024.0 * 1024.0,
        "Ei" => (GIB as f64) * 1024.0 * 1024.0 * 1024.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "m" => 1e-3,
        _ => return None,
    };
    let bytes = v * mult;
    (0.0..1.8e19).contains(&bytes).then(|| bytes.ceil() as u64)
}

/// Parses a CPU quantity into millicores: `500m`, `0.5`, `2`.
pub fn parse_cpu_millis(text: &str) -> Option<u64> {
    let (v, suffix) = split(text)?;
    let millis = match suffix {
        "" => v * 1000.0,
        "m" => v,
        "u" => v / 1000.0,
        "n" => v / 1e6,
        "k" => v * 1e6,
        _ => return None,
    };
    (0.0..1e15).contains(&millis).then(|| millis.ceil() as u64)
}

/// Formats bytes as a Kubernetes quantity, rounded up to a whole `Mi` (or `Gi` when exact).
pub fn format_memory_quantity(bytes: u64) -> String {
    let mib = bytes.div_ceil(MIB);
    if mib > 0 && mib.is_multiple_of(1024) {
        format!("{}Gi", mib / 1024)
    } else {
        format!("{mib}Mi")
    }
}

/// Formats bytes for people: `512 MiB`, `1.50 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    if bytes >= GIB {
        format!("{:.2} GiB", bytes as f64 / GIB as f64)
    } else if bytes >= MIB {
        format!("{:.0} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{bytes} B")
    }
}

/// Formats millicores as a Kubernetes quantity: `250m`, `2`.
pub fn format_cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) && millis > 0 {
        format!("{}", millis / 1000)
    } else {
        format!("{millis}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_quantities() {
        assert_eq!(parse_memory("512Mi"), Some(512 * MIB));
        assert_eq!(parse_memory("16Gi"), Some(16 * GIB));
        assert_eq!(parse_memory("2G"), Some(2_000_000_000));
        assert_eq!(parse_memory("1e3"), Some(1000));
        assert_eq!(parse_memory("123"), Some(123));
        assert_eq!(parse_memory("1.5Gi"), Some(3 * GIB / 2));
        assert_eq!(parse_memory("12Qi"), None);
        assert_eq!(parse_memory("-1Gi"), None);
        assert_eq!(parse_memory(""), None);
    }

    #[test]
    fn cpu_quantities() {
        assert_eq!(parse_cpu_millis("500m"), Some(500));
        assert_eq!(parse_cpu_millis("0.5"), Some(500));
        assert_eq!(parse_cpu_millis("2"), Some(2000));
        assert_eq!(parse_cpu_millis("two"), None);
    }

    #[test]
    fn formatting() {
        assert_eq!(format_memory_quantity(512 * MIB), "512Mi");
        assert_eq!(format_memory_quantity(16 * GIB), "16Gi");
        assert_eq!(format_memory_quantity(512 * MIB + 1), "513Mi");
        assert_eq!(format_bytes(3 * GIB / 2), "1.50 GiB");
        assert_eq!(format_cpu(250), "250m");
        assert_eq!(format_cpu(2000), "2");
    }
}
