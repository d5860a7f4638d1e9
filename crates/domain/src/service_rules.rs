//! The validation rules of `ServiceSpec`, each naming the field it refuses.

use crate::{Error, ServiceSpec};

fn invalid(field: &str, message: impl Into<String>) -> Result<(), Error> {
    Err(Error::invalid(field, message))
}

/// A DNS-1035 label: the name becomes a Deployment, a Service and a Secret prefix.
pub fn service_name(name: &str) -> Result<(), Error> {
    let ok = (1..=63).contains(&name.len())
        && name.as_bytes()[0].is_ascii_lowercase()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        invalid(
            "name",
            "must be 1 to 63 lower-case letters, digits or '-', starting with a letter and not ending with '-'",
        )
    }
}

pub fn git_repo(repo: &str) -> Result<(), Error> {
    let scheme_ok = ["https://", "http://", "ssh://", "git@"]
        .iter()
        .any(|s| repo.starts_with(s) && repo.len() > s.len());
    if !scheme_ok || repo.len() > 2048 || repo.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return invalid(
            "git_repo",
            "must be an https://, http://, ssh:// or git@ repository URL without spaces",
        );
    }
    Ok(())
}

/// `git check-ref-format` rules that matter for a branch name.
pub fn branch(field: &str, name: &str) -> Result<(), Error> {
    let bad = name.is_empty()
        || name.len() > 255
        || name.starts_with(['-', '/', '.'])
        || name.ends_with(['/', '.'])
        || name.ends_with(".lock")
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name == "@"
        || name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c));
    if bad {
        return invalid(field, format!("{name:?} is not a valid git branch name"));
    }
    Ok(())
}

/// A relative path inside the repository, never escaping it.
pub fn repo_path(field: &str, path: &str) -> Result<(), Error> {
    let bad = path.is_empty()
        || path.len() > 1024
        || path.starts_with('/')
        || path.contains('\\')
        || path.chars().any(char::is_control)
        || path.split('/').any(|part| part == "..");
    if bad {
        return invalid(
            field,
            "must be a relative path inside the repository ('.' for the root), without '..'",
        );
    }
    Ok(())
}

fn absolute_path(field: &str, path: &str) -> Result<(), Error> {
    if !path.starts_with('/')
        || path.len() > 1024
        || path.chars().any(|c| c.is_control() || c == ' ')
    {
        return invalid(field, "must be an absolute path without spaces");
    }
    Ok(())
}

fn cpu(field: &str, q: &str) -> Result<(), Error> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = match q.strip_suffix('m') {
        Some(milli) => digits(milli),
        None => match q.split_once('.') {
            Some((whole, frac)) => digits(whole) && digits(frac),
            None => digits(q),
        },
    };
    if ok && q.len() <= 16 {
        Ok(())
    } else {
        invalid(
            field,
            format!("{q:?} is not a CPU quantity (e.g. 250m or 1.5)"),
        )
    }
}

/// Bytes as a Kubernetes quantity (for comparisons between request and limit, and billing).
pub fn memory_bytes(q: &str) -> Option<u128> {
    let split = q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len());
    let (number, unit) = q.split_at(split);
    let number: u128 = number.parse().ok()?;
    let factor: u128 = match unit {
        "" => 1,
        "K" | "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(factor)
}

fn millicores(q: &str) -> Option<u128> {
    match q.strip_suffix('m') {
        Some(m) => m.parse().ok(),
        None => {
            let (whole, frac) = q.split_once('.').unwrap_or((q, ""));
            let frac = format!("{frac:0<3}");
            Some(whole.parse::<u128>().ok()? * 1000 + frac.get(..3)?.parse::<u128>().ok()?)
        }
    }
}

fn memory(field: &str, q: &str) -> Result<(), Error> {
    match memory_bytes(q) {
        Some(b) if b > 0 => Ok(()),
        _ => invalid(
            field,
            format!("{q:?} is not a memory quantity (e.g. 256Mi or 1Gi)"),
        ),
    }
}

pub(crate) fn check(s: &ServiceSpec) -> Result<(), Error> {
    service_name(&s.name)?;
    git_repo(&s.git_repo)?;
    branch("git_branch", &s.git_branch)?;
    branch("auto_deploy_branch", &s.auto_deploy_branch)?;
    repo_path("app_path", &s.app_path)?;
    for path in &s.watch_paths {
        repo_path("watch_paths", path)?;
    }
    if s.watch_paths.len() > 50 {
        return invalid("watch_paths", "at most 50 paths");
    }
    crate::EnvName::parse(&s.auto_deploy_env)
        .map_err(|_| Error::invalid("auto_deploy_env", "must be an environment name"))?;
    if !["auto", "dockerfile", "buildpack"].contains(&s.build_config.kind.as_str()) {
        return invalid("build_config.type", "must be auto, dockerfile or buildpack");
    }
    for (field, path) in [
        ("build_config.dockerfile", &s.build_config.dockerfile),
        ("build_config.context", &s.build_config.context),
    ] {
        if let Some(path) = path {
            repo_path(field, path)?;
        }
    }
    if s.port == 0 {
        return invalid("port", "must be between 1 and 65535");
    }
    if s.replicas > 50 {
        return invalid("replicas", "must be between 0 and 50");
    }
    let h = &s.health_check;
    for (field, path) in [
        ("health_check.path", Some(&h.path)),
        ("health_check.liveness_path", h.liveness_path.as_ref()),
        ("health_check.readiness_path", h.readiness_path.as_ref()),
    ] {
        if let Some(path) = path {
            absolute_path(field, path)?;
        }
    }
    for (field, value, range) in [
        (
            "health_check.initial_delay_seconds",
            h.initial_delay_seconds,
            0..=3600,
        ),
        (
            "health_check.readiness_initial_delay_seconds",
            h.readiness_initial_delay_seconds,
            0..=3600,
        ),
        ("health_check.period_seconds", h.period_seconds, 1..=3600),
        ("health_check.timeout_seconds", h.timeout_seconds, 1..=3600),
        (
            "health_check.failure_threshold",
            h.failure_threshold,
            1..=100,
        ),
    ] {
        if !range.contains(&value) {
            return invalid(
                field,
                format!("must be between {} and {}", range.start(), range.end()),
            );
        }
    }
    if h.timeout_seconds > h.period_seconds {
        return invalid(
            "health_check.timeout_seconds",
            "must not exceed period_seconds",
        );
    }
    let r = &s.resources;
    cpu("resources.cpu_request", &r.cpu_request)?;
    cpu("resources.cpu_limit", &r.cpu_limit)?;
    memory("resources.memory_request", &r.memory_request)?;
    memory("resources.memory_limit", &r.memory_limit)?;
    if millicores(&r.cpu_request) > millicores(&r.cpu_limit) {
        return invalid("resources.cpu_request", "must not exceed cpu_limit");
    }
    if memory_bytes(&r.memory_request) > memory_bytes(&r.memory_limit) {
        return invalid("resources.memory_request", "must not exceed memory_limit");
    }
    if let Some(a) = &s.autoscaling {
        if a.min_replicas < 1 || a.min_replicas > a.max_replicas || a.max_replicas > 50 {
            return invalid(
                "autoscaling",
                "needs 1 <= min_replicas <= max_replicas <= 50",
            );
        }
        if !(1..=100).contains(&a.target_cpu_percent) {
            return invalid(
                "autoscaling.target_cpu_percent",
                "must be between 1 and 100",
            );
        }
    }
    if s.volumes.len() > 10 {
        return invalid("volumes", "at most 10 volumes");
    }
    let mut names = std::collections::BTreeSet::new();
    for v in &s.volumes {
        service_name(&v.name).map_err(|_| {
            Error::invalid(
                "volumes.name",
                "must be a DNS label of at most 63 characters",
            )
        })?;
        if !names.insert(&v.name) {
            return invalid("volumes.name", format!("{} is used twice", v.name));
        }
        absolute_path("volumes.mount_path", &v.mount_path)?;
        memory("volumes.size", &v.size)?;
        if let Some(mode) = &v.access_mode
            && ![
                "ReadWriteOnce",
                "ReadOnlyMany",
                "ReadWriteMany",
                "ReadWriteOncePod",
            ]
            .contains(&mode.as_str())
        {
            return invalid("volumes.access_mode", "must be a Kubernetes access mode");
        }
    }
    Ok(())
}
