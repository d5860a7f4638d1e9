//! CPU and byte amounts in the canonical form the API server stores (`0.5` → `500m`,
//! `1024Mi` → `1Gi`), so what we render compares equal to what we read back, and spellings the
//! domain accepts but Kubernetes does not (`512K`) never reach the cluster.

use crate::RenderError;

/// CPU: millicores (`250m`) or cores with an optional fraction (`1`, `1.5`). Sub-millicore
/// precision rounds up, as Kubernetes does.
pub(crate) fn cpu(field: &'static str, raw: &str) -> Result<String, RenderError> {
    let bad = || RenderError::InvalidQuantity {
        field,
        value: raw.to_owned(),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
    let millis: u64 = match raw.strip_suffix('m') {
        Some(m) if digits(m) => m.parse().map_err(|_| bad())?,
        Some(_) => return Err(bad()),
        None => {
            let (whole, frac) = raw.split_once('.').unwrap_or((raw, "0"));
            if !digits(whole) || !digits(frac) {
                return Err(bad());
            }
            let (first, rest) = frac.split_at(frac.len().min(3));
            let round_up = u64::from(rest.bytes().any(|b| b != b'0'));
            let whole: u64 = whole.parse().map_err(|_| bad())?;
            let first: u64 = format!("{first:0<3}").parse().map_err(|_| bad())?;
            whole
                .checked_mul(1000)
                .and_then(|m| m.checked_add(first + round_up))
                .ok_or_else(bad)?
        }
    };
    Ok(if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    })
}

const BINARY: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
const DECIMAL: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];

/// Bytes: an integer with an optional SI (`k`, `M`…) or binary (`Ki`, `Mi`…) suffix. `K` is
/// read as `k` (the domain's reading; Kubernetes itself refuses `K`).
pub(crate) fn bytes(field: &'static str, raw: &str) -> Result<String, RenderError> {
    let bad = || RenderError::InvalidQuantity {
        field,
        value: raw.to_owned(),
    };
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, suffix) = raw.split_at(split);
    if number.is_empty() || number.len() > 20 {
        return Err(bad());
    }
    let number: u128 = number.parse().map_err(|_| bad())?;
    let suffix = if suffix == "K" { "k" } else { suffix };
    let (base, exponent): (u128, u32) = match (
        BINARY.iter().position(|s| *s == suffix),
        DECIMAL.iter().position(|s| *s == suffix),
    ) {
        (Some(i), _) if !suffix.is_empty() => (1024, u32::try_from(i).map_err(|_| bad())?),
        (_, Some(i)) => (1000, u32::try_from(i).map_err(|_| bad())?),
        _ => return Err(bad()),
    };
    let value = base
        .checked_pow(exponent)
        .and_then(|f| number.checked_mul(f))
        .ok_or_else(bad)?;
    // Kubernetes writes binary amounts under 1024 in decimal form.
    let (base, names) = if base == 1024 && value >= 1024 {
        (1024, BINARY)
    } else {
        (1000, DECIMAL)
    };
    let mut mantissa = value;
    let mut index = 0;
    while index + 1 < names.len() && mantissa != 0 && mantissa.is_multiple_of(base) {
        mantissa /= base;
        index += 1;
    }
    Ok(format!("{mantissa}{}", names[index]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_canonical() {
        for (raw, canonical) in [
            ("100m", "100m"),
            ("1000m", "1"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("2", "2"),
            ("0.0001", "1m"),
            ("0.250", "250m"),
        ] {
            assert_eq!(cpu("cpu", raw).unwrap(), canonical, "{raw}");
        }
        for bad in ["", "m", "1.5m", "-1", "1e3", "lots", "1."] {
            assert!(cpu("cpu", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bytes_are_canonical() {
        for (raw, canonical) in [
            ("128Mi", "128Mi"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("1000M", "1G"),
            ("512K", "512k"),
            ("2048", "2048"),
            ("1000", "1k"),
            ("1Ki", "1Ki"),
            ("0Mi", "0"),
            ("5Gi", "5Gi"),
        ] {
            assert_eq!(bytes("memory", raw).unwrap(), canonical, "{raw}");
        }
        for bad in ["", "Mi", "1.5Gi", "1Qi", "1m", "-1Gi"] {
            assert!(bytes("memory", bad).is_err(), "{bad:?}");
        }
    }
}
