//! `contains`: whether a live object already holds every field of a desired one, so `apply`
//! can skip the write. Pure, and deliberately strict: any doubt means "write".

use serde_json::Value;

/// True when every field of `desired` is present in `live` with an equal value:
/// - objects: every desired key is in `live` and contains recursively (extra live keys, such as
///   server defaults, `status` or `metadata.uid`, are fine);
/// - arrays: the same length, each element containing the desired one at the same index (list
///   order is part of the object: containers, env, ports);
/// - numbers: equal as numbers (`1` and `1.0` are the same);
/// - other scalars: equal.
///
/// A desired empty object or array, or `null`, is also satisfied by an absent key: the API
/// server drops empty optional fields. What the renderer emits is already in the API server's
/// normal form (quantities like `250m` and `1Gi`, Secret `data` as base64), so no other
/// normalisation is needed; a value the server would rewrite shows up as a (harmless) write.
pub fn contains(live: &Value, desired: &Value) -> bool {
    match (live, desired) {
        (Value::Object(live), Value::Object(desired)) => desired.iter().all(|(key, want)| {
            live.get(key)
                .map_or_else(|| is_empty(want), |have| contains(have, want))
        }),
        (Value::Array(live), Value::Array(desired)) => {
            live.len() == desired.len()
                && live
                    .iter()
                    .zip(desired)
                    .all(|(have, want)| contains(have, want))
        }
        (Value::Number(live), Value::Number(desired)) => {
            live == desired || (live.as_f64().is_some() && live.as_f64() == desired.as_f64())
        }
        (Value::Null, want) => is_empty(want),
        (live, desired) => live == desired,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn extra_live_fields_are_fine() {
        let live = json!({
            "metadata": {"name": "web", "uid": "1", "labels": {"app": "web", "by-hand": "x"}},
            "spec": {"replicas": 2, "progressDeadlineSeconds": 600},
            "status": {"readyReplicas": 2}
        });
        let desired =
            json!({"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"replicas": 2}});
        assert!(contains(&live, &desired));
        assert!(contains(&live, &json!({})));
    }

    #[test]
    fn a_missing_or_different_field_is_a_change() {
        let live = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"replicas": 2}});
        for desired in [
            json!({"metadata": {"labels": {"app": "api"}}}),
            json!({"metadata": {"labels": {"version": "v2"}}}),
            json!({"spec": {"replicas": 3}}),
            json!({"spec": {"replicas": "2"}}),
            json!({"spec": {"paused": false}}),
            json!({"spec": {"replicas": {"min": 2}}}),
        ] {
            assert!(!contains(&live, &desired), "{desired}");
        }
    }

    #[test]
    fn arrays_compare_by_position_and_length() {
        let live = json!({"containers": [
            {"name": "web", "image": "a:1", "imagePullPolicy": "IfNotPresent"},
            {"name": "sidecar", "image": "b:1"}
        ]});
        let same = json!({"containers": [{"name": "web", "image": "a:1"}, {"name": "sidecar"}]});
        assert!(contains(&live, &same));
        let reordered = json!({"containers": [{"name": "sidecar"}, {"name": "web"}]});
        assert!(!contains(&live, &reordered));
        let fewer = json!({"containers": [{"name": "web", "image": "a:1"}]});
        assert!(!contains(&live, &fewer));
        let image = json!({"containers": [{"name": "web", "image": "a:2"}, {"name": "sidecar"}]});
        assert!(!contains(&live, &image));
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(contains(&json!({"n": 1}), &json!({"n": 1.0})));
        assert!(contains(&json!({"n": 0.5}), &json!({"n": 0.5})));
        assert!(!contains(&json!({"n": 1}), &json!({"n": 2})));
        assert!(!contains(&json!({"n": -1}), &json!({"n": 1})));
    }

    #[test]
    fn empty_desired_values_match_absent_ones_only() {
        let live = json!({"spec": {"podSelector": {}}});
        assert!(contains(
            &live,
            &json!({"spec": {"podSelector": {}, "ingress": []}})
        ));
        assert!(contains(
            &json!({"spec": {}}),
            &json!({"spec": {"podSelector": {}}})
        ));
        assert!(!contains(
            &json!({"spec": {"ingress": [{"from": []}]}}),
            &json!({"spec": {"ingress": []}})
        ));
        assert!(!contains(
            &json!({}),
            &json!({"spec": {"podSelector": {"a": "b"}}})
        ));
        assert!(!contains(&json!({"s": null}), &json!({"s": "x"})));
    }

    #[test]
    fn secret_data_compares_as_base64_text() {
        // The renderer writes `data` in base64, which is what the API server returns.
        let live = json!({"data": {"TOKEN": "c2VjcmV0"}, "type": "Opaque"});
        assert!(contains(&live, &json!({"data": {"TOKEN": "c2VjcmV0"}})));
        assert!(!contains(&live, &json!({"data": {"TOKEN": "b3RoZXI="}})));
        assert!(!contains(
            &live,
            &json!({"data": {"TOKEN": "c2VjcmV0", "NEW": "eA=="}})
        ));
    }
}
