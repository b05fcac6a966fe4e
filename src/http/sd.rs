//! `GET /sd`: the configured targets as Prometheus HTTP service discovery
//! (`http_sd_configs`), so the router list lives in one place, the exporter's
//! config, and follows its reloads.
//!
//! One target group per target, sorted by name: `targets` holds the target's
//! *name* (what `/probe?target=` takes, not its address), `labels` its extra
//! `labels:` and, when it names a default `module:`, `__param_module` (which
//! Prometheus turns into the `module` URL parameter of that target's scrapes).
//! Nothing else: no address, no auth, no secret.

use super::App;
use crate::config::Config;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The target label Prometheus turns into the `module` URL parameter.
pub const PARAM_MODULE: &str = "__param_module";

/// One entry of the http_sd answer.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct TargetGroup {
    /// Always exactly one: the target's name.
    pub targets: [String; 1],
    /// Extra labels, plus `__param_module` for a target with a `module:`.
    pub labels: BTreeMap<String, String>,
}

/// The target groups of `config`, sorted by target name (the config's map is).
pub fn target_groups(config: &Config) -> Vec<TargetGroup> {
    config
        .targets
        .values()
        .map(|target| {
            // Empty values are left out, as in /probe's output: Prometheus
            // treats an empty label as absent.
            let mut labels: BTreeMap<String, String> = target
                .labels
                .iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            if let Some(module) = &target.module {
                labels.insert(PARAM_MODULE.to_string(), module.clone());
            }
            TargetGroup {
                targets: [target.name.clone()],
                labels,
            }
        })
        .collect()
}

/// The `/sd` handler: `Content-Type: application/json` (what Prometheus'
/// http_sd accepts), `[]` for an empty target list.
pub async fn sd(State(app): State<Arc<App>>) -> Json<Vec<TargetGroup>> {
    Json(target_groups(&app.prober.config()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigSource, Target};

    fn target(name: &str, labels: &[(&str, &str)], module: Option<&str>) -> Target {
        Target {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            module: module.map(String::from),
            ..Target::new(name, format!("10.9.8.7:8728 of {name}"), "secret-auth-name")
        }
    }

    fn config(targets: Vec<Target>) -> Config {
        let mut config = Config::empty(ConfigSource::Demo, &["system"]);
        for t in targets {
            config.targets.insert(t.name.clone(), t);
        }
        config
    }

    #[test]
    fn one_group_per_target_sorted_with_labels_and_module_hint() {
        let config = config(vec![
            target("zeta", &[], None),
            target(
                "alpha",
                &[("site", "hq"), ("role", "core"), ("empty", "")],
                Some("full"),
            ),
        ]);
        let json = serde_json::to_value(target_groups(&config)).expect("json");
        assert_eq!(
            json,
            serde_json::json!([
                {"targets": ["alpha"], "labels": {"__param_module": "full", "role": "core", "site": "hq"}},
                {"targets": ["zeta"], "labels": {}},
            ])
        );
    }

    #[test]
    fn no_address_or_auth_and_empty_is_an_empty_array() {
        let config = config(vec![target("r", &[("site", "x")], None)]);
        let text = serde_json::to_string(&target_groups(&config)).expect("json");
        assert!(!text.contains("10.9.8.7"), "{text}");
        assert!(!text.contains("secret-auth-name"), "{text}");
        let empty = Config::empty(ConfigSource::Demo, &["system"]);
        assert_eq!(
            serde_json::to_string(&target_groups(&empty)).expect("json"),
            "[]"
        );
    }
}
