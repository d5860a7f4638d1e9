//! Kubernetes quantities as whole numbers for billing: CPU in millicores, bytes in MiB (the "MB"
//! of Waybill's `memory_mb`, which it divides by 1024 to get GB). Rounded up: a service is billed
//! for at least what it may use.

/// `250m` → 250, `1.5` → 1500, `2` → 2000; `None` when not a CPU quantity.
pub(crate) fn millicores(q: &str) -> Option<u64> {
    if let Some(m) = q.strip_suffix('m') {
        return m.parse().ok();
    }
    let (whole, frac) = q.split_once('.').unwrap_or((q, ""));
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (first, rest) = frac.split_at(frac.len().min(3));
    let round_up = u64::from(rest.bytes().any(|b| b != b'0'));
    let whole: u64 = whole.parse().ok()?;
    let first: u64 = format!("{first:0<3}").parse().ok()?;
    whole.checked_mul(1000)?.checked_add(first + round_up)
}

/// MiB of a quantity, rounded up (`512Mi` → 512, `1Gi` → 1024, `1G` → 954).
pub(crate) fn mebibytes(q: &str) -> Option<u64> {
    let b = switchyard_domain::service_rules::memory_bytes(q)?;
    u64::try_from(b.div_ceil(1 << 20)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_become_whole_billing_units() {
        assert_eq!(millicores("500m"), Some(500));
        assert_eq!(millicores("1.5"), Some(1500));
        assert_eq!(millicores("2"), Some(2000));
        assert_eq!(millicores("0.0001"), Some(1));
        assert_eq!(millicores("lots"), None);
        assert_eq!(mebibytes("512Mi"), Some(512));
        assert_eq!(mebibytes("1Gi"), Some(1024));
        assert_eq!(mebibytes("1G"), Some(954));
        assert_eq!(mebibytes("1Qi"), None);
    }
}
